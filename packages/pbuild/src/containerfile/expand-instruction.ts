// Replacing variables in an instruction, at build time, with the stage's variables (its ENV and
// ARG values). Which parts are expanded is the reference's list: ADD, COPY, ENV, EXPOSE, LABEL,
// STOPSIGNAL, USER, VOLUME, WORKDIR (and RUN --mount option values, as buildkit does). RUN, CMD,
// ENTRYPOINT, SHELL and HEALTHCHECK are left alone (a shell expands them, or nothing does);
// ONBUILD is expanded when its trigger runs; ARG defaults are expanded by StageArgs.declare;
// FROM by the parser, with the global scope.
import { ParseError, type Where } from './errors.ts';
import { expand, expandWord, type EnvLike } from './expand.ts';
import type { CopySource, Instruction, KeyValue, Location } from './instructions.ts';
import { parseMount } from './mounts.ts';
import { checkSignal, parsePortSpec, ValueError } from './values.ts';

export interface ExpandInstructionOptions {
  /** the Containerfile's escape character (Containerfile.escape) */
  escape?: string;
}

function whereOf(loc: Location): Where {
  return { file: loc.file, line: loc.line, col: loc.col };
}

/**
 * A copy of the instruction with its variables replaced and quotes removed. All variables are
 * read from `env` as it is before the instruction (so `ENV a=1 b=$a` sees the old `a`).
 * EXPOSE ports become `port/proto` entries.
 */
export function expandInstruction<T extends Instruction>(instr: T, env: EnvLike, options: ExpandInstructionOptions = {}): T {
  const where = whereOf(instr.loc);
  const opts = { escape: options.escape ?? '\\', where };
  const word = (w: string): string => expandWord(w, env, opts);
  const optional = (w: string | undefined): string | undefined => (w === undefined ? undefined : word(w));
  const kv = (pairs: KeyValue[]): KeyValue[] => pairs.map((p) => ({ key: word(p.key), value: word(p.value) }));
  const checked = <V>(what: string, f: () => V): V => {
    try {
      return f();
    } catch (err) {
      if (err instanceof ValueError) throw new ParseError(where, `${what}: ${err.message}`);
      throw err;
    }
  };
  const i = instr as Instruction;
  switch (i.kind) {
    case 'ENV':
      return { ...i, env: kv(i.env) } as T;
    case 'LABEL':
      return { ...i, labels: kv(i.labels) } as T;
    case 'USER':
      return { ...i, user: word(i.user) } as T;
    case 'WORKDIR':
      return { ...i, path: word(i.path) } as T;
    case 'STOPSIGNAL': {
      const signal = word(i.signal);
      checked('STOPSIGNAL', () => checkSignal(signal));
      return { ...i, signal } as T;
    }
    case 'VOLUME': {
      const volumes = i.volumes.map(word);
      if (volumes.some((v) => v === '')) throw new ParseError(where, 'VOLUME paths can not be empty');
      return { ...i, volumes } as T;
    }
    case 'EXPOSE': {
      const words = i.ports.flatMap((p) => expand(p, env, opts).words);
      return { ...i, ports: words.flatMap((w) => checked('EXPOSE', () => parsePortSpec(w))) } as T;
    }
    case 'ADD':
    case 'COPY': {
      const sources = i.sources.map((s): CopySource => {
        if (s.kind === 'path') return { kind: 'path', path: word(s.path) };
        if (!s.heredoc.expand) return s;
        // heredoc bodies keep their quotes; `$` and backslash escapes are processed
        return { kind: 'heredoc', heredoc: { ...s.heredoc, content: expandWord(s.heredoc.content, env, { escape: '\\', keepQuotes: true, where }) } };
      });
      const out = { ...i, sources, dest: word(i.dest) };
      const chown = optional(i.chown);
      if (chown !== undefined) out.chown = chown;
      const chmod = optional(i.chmod);
      if (chmod !== undefined) out.chmod = chmod;
      if (out.kind === 'ADD' && i.kind === 'ADD') {
        const checksum = optional(i.checksum);
        if (checksum !== undefined) out.checksum = checksum;
      }
      return out as T;
    }
    case 'RUN': {
      if (i.mountSpecs.length === 0) return instr;
      const mounts = i.mountSpecs.map((spec) => checked(`invalid --mount=${spec}`, () => parseMount(spec, word)));
      return { ...i, mounts } as T;
    }
    default:
      return instr;
  }
}
