// One logical line to one typed instruction: the keyword, the flags the instruction accepts,
// and its arguments, checked as far as they can be without the build's variables (values that
// use variables are checked when expandInstruction replaces them).
import { didYouMean, ParseError, type Warning, type Where } from './errors.ts';
import { parseFlags, type FlagSpec, type Flags } from './flags.ts';
import type {
  ArgDeclaration,
  CommandLine,
  CopySource,
  FromInstruction,
  Heredoc,
  Instruction,
  InstructionKind,
  KeyValue,
  Location,
  TriggerInstruction,
} from './instructions.ts';
import { INSTRUCTION_KINDS } from './instructions.ts';
import { positionAt, type EscapeChar, type LexedHeredoc, type LogicalLine } from './lexer.ts';
import { parseMount, type RunMount } from './mounts.ts';
import { checkSignal, parseDuration, parsePortSpec, ValueError } from './values.ts';
import {
  BadHeredocMarker,
  extractFlags,
  isSpace,
  leadingSpace,
  NotStringArray,
  parseHeredocMarker,
  parseJsonArray,
  parseWords,
  splitFields,
  splitKeyword,
  trimSpace,
  type Span,
  type Token,
} from './words.ts';

export interface Ctx {
  file: string;
  escape: EscapeChar;
  warnings: Warning[];
}

interface Req {
  ctx: Ctx;
  line: LogicalLine;
  kind: InstructionKind;
  keyword: Token;
  flagTokens: Token[];
  args: Span;
  loc: Location;
  source: string;
  at(offset: number): Where;
}

const FLAGS: Partial<Record<InstructionKind, FlagSpec>> = {
  FROM: { platform: 'string' },
  RUN: { mount: 'strings', network: 'string', security: 'string', device: 'strings' },
  ADD: { chown: 'string', chmod: 'string', checksum: 'string', 'keep-git-dir': 'bool', link: 'bool', unpack: 'bool', exclude: 'strings' },
  COPY: { from: 'string', chown: 'string', chmod: 'string', link: 'bool', parents: 'bool', exclude: 'strings' },
  HEALTHCHECK: { interval: 'string', timeout: 'string', 'start-period': 'string', 'start-interval': 'string', retries: 'string' },
};

const STAGE_NAME = /^[a-z][a-z0-9_.-]*$/;

function isKind(s: string): s is InstructionKind {
  return (INSTRUCTION_KINDS as readonly string[]).includes(s);
}

/** Parses the instruction in `span` of a logical line. */
export function parseLine(ctx: Ctx, line: LogicalLine, span: Span): Instruction {
  const { keyword, rest } = splitKeyword(span);
  const at = (offset: number): Where => ({ file: ctx.file, ...positionAt(line, offset) });
  const kind = keyword.text.toUpperCase();
  if (!isKind(kind)) throw new ParseError(at(keyword.offset), `unknown instruction "${keyword.text}"${didYouMean(kind, INSTRUCTION_KINDS)}`);
  const { flags, args } = extractFlags(rest, ctx.escape);
  const pos = positionAt(line, keyword.offset);
  const req: Req = {
    ctx,
    line,
    kind,
    keyword,
    flagTokens: flags,
    args,
    loc: { file: ctx.file, line: pos.line, col: pos.col, endLine: line.endLine },
    source: trimSpace(span.text),
    at,
  };
  return BUILDERS[kind](req);
}

function flagsOf(req: Req): Flags {
  return parseFlags(req.kind, FLAGS[req.kind] ?? {}, req.flagTokens, req.at);
}

function fail(req: Req, offset: number, reason: string): never {
  throw new ParseError(req.at(offset), reason);
}

function common(req: Req): { loc: Location; source: string } {
  return { loc: req.loc, source: req.source };
}

function jsonArgs(req: Req, text = req.args.text, offset = req.args.offset): string[] | undefined {
  try {
    return parseJsonArray(text);
  } catch (err) {
    if (err instanceof NotStringArray) fail(req, offset, `${req.kind}: the exec form (a JSON array) may contain only strings`);
    throw err;
  }
}

function commandLine(req: Req, text = req.args.text, offset = req.args.offset): CommandLine {
  const args = jsonArgs(req, text, offset);
  if (args !== undefined) return { form: 'exec', args };
  if (/^\[\s*"/.test(text)) {
    req.ctx.warnings.push({
      ...req.at(offset),
      message: `${req.kind} looks like the exec form (a JSON array) but is not valid JSON: it runs as a shell command`,
    });
  }
  return { form: 'shell', text };
}

function publicHeredoc(h: LexedHeredoc): Heredoc {
  const { at: _at, ...rest } = h;
  return rest;
}

function needArgs(req: Req, what = 'at least one argument'): void {
  if (req.args.text === '') fail(req, req.keyword.offset, `${req.kind} requires ${what}`);
}

function flagToken(req: Req, name: string, nth = 0): Token {
  const toks = req.flagTokens.filter((t) => t.text === `--${name}` || t.text.startsWith(`--${name}=`));
  return toks[nth] ?? req.keyword;
}

function keyValues(req: Req): KeyValue[] {
  flagsOf(req);
  const words = parseWords(req.args, req.ctx.escape);
  if (words.length === 0) fail(req, req.keyword.offset, `${req.kind} requires at least one argument: ${req.kind} NAME=VALUE ...`);
  if (!words[0]!.text.includes('=')) {
    // the legacy form `ENV NAME VALUE`: everything after the name is the value
    const m = /[\t\v\f\r ]+/.exec(req.args.text);
    if (!m) fail(req, req.args.offset, `${req.kind} ${req.args.text}: expected NAME=VALUE (or the legacy form ${req.kind} NAME VALUE)`);
    req.ctx.warnings.push({ ...req.at(req.keyword.offset), message: `"${req.kind} name value" is the legacy form; use ${req.kind} name=value` });
    return [{ key: req.args.text.slice(0, m.index), value: req.args.text.slice(m.index + m[0].length) }];
  }
  return words.map((w) => {
    const eq = w.text.indexOf('=');
    if (eq < 0) fail(req, w.offset, `${req.kind}: expected NAME=VALUE, found "${w.text}" (quote or escape values with spaces)`);
    if (eq === 0) fail(req, w.offset, `${req.kind} names can not be blank: "${w.text}"`);
    return { key: w.text.slice(0, eq), value: w.text.slice(eq + 1) };
  });
}

function single(req: Req): string {
  flagsOf(req);
  needArgs(req, 'exactly one argument');
  return req.args.text;
}

function copyArgs(req: Req): { sources: CopySource[]; dest: string } {
  const json = jsonArgs(req);
  let tokens: Token[];
  if (json !== undefined) {
    tokens = json.map((text) => ({ text, offset: req.args.offset }));
  } else {
    // `<< EOF` is one heredoc marker, even though it has a space
    tokens = [];
    for (const t of splitFields(req.args)) {
      const prev = tokens[tokens.length - 1];
      if (prev && /^\d*<<-?$/.test(prev.text)) prev.text += ` ${t.text}`;
      else tokens.push({ ...t });
    }
  }
  if (tokens.length < 2) fail(req, req.keyword.offset, `${req.kind} requires at least two arguments: ${req.kind} [FLAGS] SOURCE... DEST`);
  const marker = (t: Token): ReturnType<typeof parseHeredocMarker> => {
    if (json !== undefined) return undefined;
    try {
      return parseHeredocMarker(t.text);
    } catch (err) {
      if (err instanceof BadHeredocMarker) fail(req, t.offset, err.message);
      throw err;
    }
  };
  const destTok = tokens[tokens.length - 1]!;
  if (marker(destTok)) fail(req, destTok.offset, `${req.kind} cannot accept a heredoc as its destination`);
  const unused = [...req.line.heredocs];
  const sources = tokens.slice(0, -1).map((t): CopySource => {
    const m = marker(t);
    if (!m) return { kind: 'path', path: t.text };
    const i = unused.findIndex((h) => h.name === m.name);
    if (i < 0) fail(req, t.offset, `heredoc ${t.text} has no body`);
    return { kind: 'heredoc', heredoc: publicHeredoc(unused.splice(i, 1)[0]!) };
  });
  return { sources, dest: destTok.text };
}

function checkMounts(req: Req, specs: string[]): RunMount[] {
  return specs.map((spec, i) => {
    try {
      return parseMount(spec);
    } catch (err) {
      if (err instanceof ValueError) fail(req, flagToken(req, 'mount', i).offset, `invalid --mount=${spec}: ${err.message}`);
      throw err;
    }
  });
}

function literalCheck(req: Req, offset: number, value: string, check: (v: string) => unknown): void {
  if (value.includes('$')) return;
  try {
    check(value);
  } catch (err) {
    if (err instanceof ValueError) fail(req, offset, `${req.kind}: ${err.message}`);
    throw err;
  }
}

const BUILDERS: Record<InstructionKind, (req: Req) => Instruction> = {
  FROM(req) {
    const flags = flagsOf(req);
    const fields = splitFields(req.args);
    let name: string | undefined;
    if (fields.length === 3 && fields[1]!.text.toLowerCase() === 'as') {
      name = fields[2]!.text.toLowerCase();
      if (!STAGE_NAME.test(name)) {
        fail(req, fields[2]!.offset, `invalid stage name "${fields[2]!.text}": it must start with a letter and contain only letters, digits, "-", "_" and "."`);
      }
    } else if (fields.length !== 1) {
      fail(req, req.keyword.offset, 'FROM requires either one or three arguments: FROM [--platform=PLATFORM] IMAGE [AS NAME]');
    }
    const out: FromInstruction = { kind: 'FROM', ...common(req), image: fields[0]!.text };
    if (name !== undefined) out.name = name;
    const platform = flags.string('platform');
    if (platform !== undefined) out.platform = platform;
    return out;
  },

  RUN(req) {
    const flags = flagsOf(req);
    const command = commandLine(req);
    if ((command.form === 'shell' && command.text === '') || (command.form === 'exec' && command.args.length === 0)) {
      fail(req, req.keyword.offset, 'RUN requires a command');
    }
    const mountSpecs = flags.strings('mount');
    const out: Instruction = {
      kind: 'RUN',
      ...common(req),
      command,
      heredocs: command.form === 'shell' ? req.line.heredocs.map(publicHeredoc) : [],
      mounts: checkMounts(req, mountSpecs),
      mountSpecs,
    };
    const network = flags.string('network');
    if (network !== undefined) {
      if (network !== 'default' && network !== 'none' && network !== 'host') {
        fail(req, flagToken(req, 'network').offset, `invalid network mode "${network}" for RUN --network (expected default, none or host)`);
      }
      out.network = network;
    }
    const security = flags.string('security');
    if (security !== undefined) {
      if (security !== 'sandbox' && security !== 'insecure') {
        fail(req, flagToken(req, 'security').offset, `invalid security mode "${security}" for RUN --security (expected sandbox or insecure)`);
      }
      out.security = security;
    }
    const devices = flags.strings('device');
    if (devices.length > 0) out.devices = devices;
    return out;
  },

  CMD(req) {
    flagsOf(req);
    needArgs(req);
    return { kind: 'CMD', ...common(req), command: commandLine(req) };
  },

  ENTRYPOINT(req) {
    flagsOf(req);
    needArgs(req);
    return { kind: 'ENTRYPOINT', ...common(req), command: commandLine(req) };
  },

  LABEL: (req) => ({ kind: 'LABEL', ...common(req), labels: keyValues(req) }),
  ENV: (req) => ({ kind: 'ENV', ...common(req), env: keyValues(req) }),
  MAINTAINER(req) {
    req.ctx.warnings.push({ ...req.at(req.keyword.offset), message: 'MAINTAINER is deprecated; use LABEL org.opencontainers.image.authors=...' });
    return { kind: 'MAINTAINER', ...common(req), maintainer: single(req) };
  },
  USER: (req) => ({ kind: 'USER', ...common(req), user: single(req) }),
  WORKDIR: (req) => ({ kind: 'WORKDIR', ...common(req), path: single(req) }),

  STOPSIGNAL(req) {
    const signal = single(req);
    literalCheck(req, req.args.offset, signal, checkSignal);
    return { kind: 'STOPSIGNAL', ...common(req), signal };
  },

  EXPOSE(req) {
    flagsOf(req);
    needArgs(req);
    const fields = splitFields(req.args);
    for (const f of fields) literalCheck(req, f.offset, f.text, parsePortSpec);
    return { kind: 'EXPOSE', ...common(req), ports: fields.map((f) => f.text) };
  },

  ARG(req) {
    flagsOf(req);
    const words = parseWords(req.args, req.ctx.escape);
    if (words.length === 0) fail(req, req.keyword.offset, 'ARG requires at least one argument: ARG NAME[=DEFAULT] ...');
    const args = words.map((w): ArgDeclaration => {
      const eq = w.text.indexOf('=');
      if (eq === 0) fail(req, w.offset, `ARG names can not be blank: "${w.text}"`);
      return eq < 0 ? { name: w.text } : { name: w.text.slice(0, eq), default: w.text.slice(eq + 1) };
    });
    return { kind: 'ARG', ...common(req), args };
  },

  ADD(req) {
    const flags = flagsOf(req);
    const out: Instruction = { kind: 'ADD', ...common(req), ...copyArgs(req), link: flags.bool('link') ?? false, excludes: flags.strings('exclude') };
    const chown = flags.string('chown');
    if (chown !== undefined) out.chown = chown;
    const chmod = flags.string('chmod');
    if (chmod !== undefined) out.chmod = chmod;
    const checksum = flags.string('checksum');
    if (checksum !== undefined) out.checksum = checksum;
    const keep = flags.bool('keep-git-dir');
    if (keep !== undefined) out.keepGitDir = keep;
    const unpack = flags.bool('unpack');
    if (unpack !== undefined) out.unpack = unpack;
    return out;
  },

  COPY(req) {
    const flags = flagsOf(req);
    const out: Instruction = {
      kind: 'COPY',
      ...common(req),
      ...copyArgs(req),
      link: flags.bool('link') ?? false,
      parents: flags.bool('parents') ?? false,
      excludes: flags.strings('exclude'),
    };
    const from = flags.string('from');
    if (from !== undefined) {
      if (/\$[{\w]/.test(from)) {
        fail(req, flagToken(req, 'from').offset, 'COPY --from does not expand variables: define a stage with FROM (which sees the global ARGs) and copy from it');
      }
      if (from === '') fail(req, flagToken(req, 'from').offset, 'COPY --from needs a stage name, a stage index or an image');
      out.from = from;
    }
    const chown = flags.string('chown');
    if (chown !== undefined) out.chown = chown;
    const chmod = flags.string('chmod');
    if (chmod !== undefined) out.chmod = chmod;
    return out;
  },

  VOLUME(req) {
    flagsOf(req);
    needArgs(req);
    const json = jsonArgs(req);
    const volumes = json !== undefined ? json.map(trimSpace) : splitFields(req.args).map((t) => t.text);
    if (volumes.length === 0) fail(req, req.args.offset, 'VOLUME requires at least one path');
    if (volumes.some((v) => v === '')) fail(req, req.args.offset, 'VOLUME paths can not be empty');
    return { kind: 'VOLUME', ...common(req), volumes };
  },

  ONBUILD(req) {
    flagsOf(req);
    needArgs(req, 'an instruction to run in a later build, e.g. ONBUILD RUN make');
    const inner = splitKeyword(req.args).keyword;
    const innerKind = inner.text.toUpperCase();
    if (innerKind === 'ONBUILD') fail(req, inner.offset, "chaining ONBUILD via `ONBUILD ONBUILD` isn't allowed");
    if (innerKind === 'FROM' || innerKind === 'MAINTAINER') fail(req, inner.offset, `${innerKind} isn't allowed as an ONBUILD trigger`);
    const trigger = parseLine(req.ctx, req.line, req.args) as TriggerInstruction;
    let expression = req.source.replace(/^\s*ONBUILD\s*/i, '');
    for (const h of req.line.heredocs) expression += `\n${h.content}${h.name}`;
    return { kind: 'ONBUILD', ...common(req), trigger, expression };
  },

  HEALTHCHECK(req) {
    needArgs(req, 'at least one argument: HEALTHCHECK NONE or HEALTHCHECK [OPTIONS] CMD command');
    const text = req.args.text;
    let sep = 0;
    while (sep < text.length && !isSpace(text[sep])) sep++;
    const typeText = text.slice(0, sep);
    const type = typeText.toUpperCase();
    const skip = sep + leadingSpace(text.slice(sep));
    const restText = text.slice(skip);
    const restOffset = req.args.offset + skip;
    if (type === 'NONE') {
      if (restText !== '') fail(req, restOffset, 'HEALTHCHECK NONE takes no arguments');
      if (req.flagTokens.length > 0) fail(req, req.flagTokens[0]!.offset, 'HEALTHCHECK NONE takes no flags');
      return { kind: 'HEALTHCHECK', ...common(req), test: ['NONE'] };
    }
    const flags = flagsOf(req);
    if (type !== 'CMD') fail(req, req.args.offset, `unknown type "${typeText}" in HEALTHCHECK (expected CMD or NONE)`);
    const command = commandLine(req, restText, restOffset);
    const test = command.form === 'exec' ? ['CMD', ...command.args] : ['CMD-SHELL', command.text];
    if (test.length === 1 || test[1] === '') fail(req, req.args.offset, 'HEALTHCHECK CMD needs a command');
    const out: Instruction = { kind: 'HEALTHCHECK', ...common(req), test };
    const durations = [
      ['interval', 'interval'],
      ['timeout', 'timeout'],
      ['start-period', 'startPeriod'],
      ['start-interval', 'startInterval'],
    ] as const;
    for (const [flag, field] of durations) {
      const raw = flags.string(flag);
      if (raw === undefined || raw === '') continue;
      let ns: number;
      try {
        ns = parseDuration(raw);
      } catch (err) {
        if (err instanceof ValueError) fail(req, flagToken(req, flag).offset, `HEALTHCHECK --${flag}: ${err.message}`);
        throw err;
      }
      if (ns !== 0 && ns < 1e6) fail(req, flagToken(req, flag).offset, `HEALTHCHECK --${flag} cannot be less than 1ms`);
      if (ns !== 0) out[field] = ns;
    }
    const retries = flags.string('retries');
    if (retries !== undefined && retries !== '') {
      if (!/^[+-]?\d+$/.test(retries) || Math.abs(Number(retries)) > 2147483647) {
        fail(req, flagToken(req, 'retries').offset, `HEALTHCHECK --retries must be a whole number, not "${retries}"`);
      }
      const n = Number(retries);
      if (n < 0) fail(req, flagToken(req, 'retries').offset, `HEALTHCHECK --retries cannot be negative (${retries})`);
      if (n > 0) out.retries = n;
    }
    return out;
  },

  SHELL(req) {
    flagsOf(req);
    needArgs(req);
    const shell = jsonArgs(req);
    if (shell === undefined) fail(req, req.args.offset, 'SHELL requires the exec form (a JSON array), e.g. SHELL ["/bin/bash", "-c"]');
    if (shell.length === 0) fail(req, req.args.offset, 'SHELL requires at least one argument');
    return { kind: 'SHELL', ...common(req), shell };
  },
};
