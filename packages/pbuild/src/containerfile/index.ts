// The Containerfile (Dockerfile) module: lexer, parser, typed instructions, variable
// substitution, ARG scoping and the stage graph. See docs/containerfile.md.
export { ParseError, type Position, type Warning, type Where } from './errors.ts';
export { lex, decodeContainerfile, type Directive, type EscapeChar, type Heredoc, type Lexed, type LogicalLine } from './lexer.ts';
export {
  parseContainerfile,
  parseInstructions,
  parseTrigger,
  type Containerfile,
  type ParseOptions,
  type ParsedInstructions,
  type Stage,
  type StageBase,
} from './parser.ts';
export * from './instructions.ts';
export { expand, expandWord, expandWords, type EnvLike, type ExpandOptions, type ExpandResult } from './expand.ts';
export { expandInstruction, type ExpandInstructionOptions } from './expand-instruction.ts';
export { parseMount, type MountSharing, type MountType, type RunMount } from './mounts.ts';
export {
  formatPlatform,
  hostPlatform,
  parsePlatform,
  platformArgs,
  resolveGlobalArgs,
  stageArgs,
  StageArgs,
  unusedBuildArgs,
  PLATFORM_ARGS,
  PROXY_ARGS,
  type ArgValues,
  type BuildPlatforms,
  type Platform,
} from './args.ts';
export { findStage, stageDependencies, stagesForTarget, type StageDependency } from './stages.ts';
export { parseDuration, parsePortSpec } from './values.ts';
