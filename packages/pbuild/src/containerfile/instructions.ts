// The typed instructions the parser produces. Arguments are kept as written (variables not yet
// replaced): most depend on the stage's environment at build time, which only the build engine
// knows; expandInstruction (expand-instruction.ts) replaces them then.
import type { Heredoc } from './lexer.ts';
import type { RunMount } from './mounts.ts';
import { parseHeredocMarker } from './words.ts';

export type { Heredoc } from './lexer.ts';

/** Where an instruction is: its keyword's line:col, and its last line (heredoc bodies included). */
export interface Location {
  file: string;
  line: number;
  col: number;
  endLine: number;
}

interface Common {
  loc: Location;
  /** the instruction as written, continuations joined, without heredoc bodies (for history) */
  source: string;
}

/** Exec form (a JSON array, run as is) or shell form (run by the stage's SHELL). */
export type CommandLine = { form: 'exec'; args: string[] } | { form: 'shell'; text: string };

export interface KeyValue {
  key: string;
  value: string;
}

export interface FromInstruction extends Common {
  kind: 'FROM';
  image: string;
  /** `AS name`, lower-cased */
  name?: string;
  platform?: string;
}

export type NetworkMode = 'default' | 'none' | 'host';
export type SecurityMode = 'sandbox' | 'insecure';

export interface RunInstruction extends Common {
  kind: 'RUN';
  command: CommandLine;
  /** bodies of the heredocs in a shell-form command, in order */
  heredocs: Heredoc[];
  mounts: RunMount[];
  /** the --mount values as written, parsed again after expansion */
  mountSpecs: string[];
  network?: NetworkMode;
  security?: SecurityMode;
  /** --device values as written (CDI device names) */
  devices?: string[];
}

export interface CmdInstruction extends Common {
  kind: 'CMD';
  command: CommandLine;
}

export interface EntrypointInstruction extends Common {
  kind: 'ENTRYPOINT';
  command: CommandLine;
}

export interface LabelInstruction extends Common {
  kind: 'LABEL';
  labels: KeyValue[];
}

export interface MaintainerInstruction extends Common {
  kind: 'MAINTAINER';
  maintainer: string;
}

export interface ExposeInstruction extends Common {
  kind: 'EXPOSE';
  /** as written; after expansion: one `port/proto` entry per port */
  ports: string[];
}

export interface EnvInstruction extends Common {
  kind: 'ENV';
  env: KeyValue[];
}

export interface ArgDeclaration {
  name: string;
  /** the default as written (quotes still in it), expanded when the ARG is reached */
  default?: string;
}

export interface ArgInstruction extends Common {
  kind: 'ARG';
  args: ArgDeclaration[];
}

/** A COPY/ADD source: a path (or URL) or an inline file from a heredoc (`COPY <<EOF /dest`). */
export type CopySource = { kind: 'path'; path: string } | { kind: 'heredoc'; heredoc: Heredoc };

export interface AddInstruction extends Common {
  kind: 'ADD';
  sources: CopySource[];
  dest: string;
  chown?: string;
  chmod?: string;
  checksum?: string;
  keepGitDir?: boolean;
  link: boolean;
  unpack?: boolean;
  excludes: string[];
}

export interface CopyInstruction extends Common {
  kind: 'COPY';
  sources: CopySource[];
  dest: string;
  /** a stage name, a stage index or an image */
  from?: string;
  chown?: string;
  chmod?: string;
  link: boolean;
  parents: boolean;
  excludes: string[];
}

export interface VolumeInstruction extends Common {
  kind: 'VOLUME';
  volumes: string[];
}

export interface UserInstruction extends Common {
  kind: 'USER';
  user: string;
}

export interface WorkdirInstruction extends Common {
  kind: 'WORKDIR';
  path: string;
}

export interface OnbuildInstruction extends Common {
  kind: 'ONBUILD';
  /** the wrapped instruction, parsed (it runs, and is expanded, in the downstream build) */
  trigger: TriggerInstruction;
  /** the text stored in the image config's OnBuild list (heredoc bodies appended) */
  expression: string;
}

export interface StopsignalInstruction extends Common {
  kind: 'STOPSIGNAL';
  signal: string;
}

/** test: ['NONE'], ['CMD', ...args] or ['CMD-SHELL', command]; durations in nanoseconds. */
export interface HealthcheckInstruction extends Common {
  kind: 'HEALTHCHECK';
  test: string[];
  interval?: number;
  timeout?: number;
  startPeriod?: number;
  startInterval?: number;
  retries?: number;
}

export interface ShellInstruction extends Common {
  kind: 'SHELL';
  shell: string[];
}

export type Instruction =
  | FromInstruction
  | RunInstruction
  | CmdInstruction
  | EntrypointInstruction
  | LabelInstruction
  | MaintainerInstruction
  | ExposeInstruction
  | EnvInstruction
  | ArgInstruction
  | AddInstruction
  | CopyInstruction
  | VolumeInstruction
  | UserInstruction
  | WorkdirInstruction
  | OnbuildInstruction
  | StopsignalInstruction
  | HealthcheckInstruction
  | ShellInstruction;

export type InstructionKind = Instruction['kind'];

/** What ONBUILD may wrap. */
export type TriggerInstruction = Exclude<Instruction, FromInstruction | OnbuildInstruction | MaintainerInstruction>;

export const INSTRUCTION_KINDS: readonly InstructionKind[] = [
  'ADD', 'ARG', 'CMD', 'COPY', 'ENTRYPOINT', 'ENV', 'EXPOSE', 'FROM', 'HEALTHCHECK', 'LABEL', 'MAINTAINER',
  'ONBUILD', 'RUN', 'SHELL', 'STOPSIGNAL', 'USER', 'VOLUME', 'WORKDIR',
];

/**
 * What a RUN executes, given the stage's shell: buildkit's rules. A shell-form command that is
 * just one heredoc runs the body with the shell, or as a script when the body starts with `#!`
 * (the file must then be provided at `script.path`); a command with heredocs and more is
 * passed to the shell with the bodies after it, so the shell feeds them.
 */
export function runArgv(run: RunInstruction, shell: readonly string[]): { argv: string[]; script?: { path: string; content: string } } {
  if (run.command.form === 'exec') return { argv: [...run.command.args] };
  const text = run.command.text;
  const first = run.heredocs[0];
  if (first === undefined) return { argv: [...shell, text] };
  let single = false;
  try {
    single = parseHeredocMarker(text) !== undefined;
  } catch {
    single = false;
  }
  if (single) {
    if (first.content.startsWith('#!')) {
      const path = `/dev/pipes/${first.name}`;
      return { argv: [...shell, path], script: { path, content: first.content } };
    }
    return { argv: [...shell, first.content] };
  }
  let script = text;
  for (const h of run.heredocs) script += `\n${h.content}${h.name}`;
  return { argv: [...shell, script] };
}
