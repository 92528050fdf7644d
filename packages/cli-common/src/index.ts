// What the three CLIs share, so it exists once: the global `--root` flag, how oclif is started,
// and how an escaped error is reported (docs/cli.md). CLIs depend on this package, never on
// each other.
import { Command, Flags, run, type Interfaces } from '@oclif/core';

export * from './registry-flags.ts';

export abstract class BaseCommand extends Command {
  static override baseFlags = {
    root: Flags.string({ summary: 'Store root directory (default: per-user data dir).', env: 'PKIT_ROOT', helpGroup: 'GLOBAL' }),
  };
}

/** A global flag and the env variable its flag definition reads. */
export interface GlobalFlag {
  name: string;
  env: string;
}

export const ROOT_FLAG: GlobalFlag = { name: 'root', env: 'PKIT_ROOT' };

/**
 * Global flags may come before the command, as with podman and skopeo (`prun --root DIR images`,
 * `pcopy --override-arch arm64 copy ...`); oclif only parses flags after it. Leading global
 * flags are handed over through the env variables their definitions read, so the command line
 * after the command is never rearranged.
 */
export function hoistGlobalFlags(argv: string[], globals: readonly GlobalFlag[] = [ROOT_FLAG], env: NodeJS.ProcessEnv = process.env): string[] {
  let i = 0;
  outer: while (i < argv.length) {
    const a = argv[i]!;
    for (const g of globals) {
      if (a === `--${g.name}` && i + 1 < argv.length) {
        env[g.env] = argv[i + 1];
        i += 2;
        continue outer;
      }
      if (a.startsWith(`--${g.name}=`)) {
        env[g.env] = a.slice(g.name.length + 3);
        i += 1;
        continue outer;
      }
    }
    break;
  }
  return argv.slice(i);
}

interface CommandLike {
  flags?: Record<string, { type?: string; allowNo?: boolean }>;
  baseFlags?: Record<string, { type?: string; allowNo?: boolean }>;
}

/**
 * Accepts `--flag=true` and `--flag=false` for the command's boolean flags, as Go tools do
 * (`--tls-verify=false`); oclif knows only `--flag` and `--no-flag`.
 */
export function normalizeBooleanFlags(argv: string[], commands: Record<string, unknown>): string[] {
  const id = commandId(argv, commands);
  const cmd = id === undefined ? undefined : (commands[id] as CommandLike);
  if (!cmd) return argv;
  const flags = { ...cmd.baseFlags, ...cmd.flags };
  const end = argv.indexOf('--');
  return argv.map((a, i) => {
    if (end !== -1 && i > end) return a;
    const m = /^--([a-z0-9-]+)=(true|false)$/.exec(a);
    const def = m && flags[m[1]!];
    if (!m || def?.type !== 'boolean') return a;
    if (m[2] === 'true') return `--${m[1]}`;
    if (!def.allowNo) return a; // let oclif say the flag takes no value
    return `--no-${m[1]}`;
  });
}

/** The longest run of leading words that names a command (`image prune` before `image`). */
function commandId(argv: string[], commands: Record<string, unknown>): string | undefined {
  let found: string | undefined;
  for (let n = 1; n <= argv.length && !argv[n - 1]!.startsWith('-'); n++) {
    const id = argv.slice(0, n).join(':');
    if (id in commands) found = id;
  }
  return found;
}

/** The exit status of the tool's own failure, as podman's. */
export const EXIT_TOOL_ERROR = 125;

/** Prints an error that escaped a command and returns the exit status. */
export function reportError(err: unknown): number {
  const e = (err ?? {}) as { message?: string; code?: unknown; oclif?: { exit?: number }; stack?: string };
  // eslint-disable-next-line no-control-regex
  const msg = String(e.message ?? err).replace(/\x1b\[[0-9;]*m/g, '');
  if (e.oclif && /^EEXIT: \d+$/.test(msg)) return e.oclif.exit ?? 0; // this.exit(n)
  const user = e.oclif !== undefined || (typeof e.code === 'string' && /^(PKIT_|ENOENT$|EACCES$)/.test(e.code));
  if (!user) {
    process.stderr.write(`${e.stack ?? `Error: ${msg}`}\n`); // a bug: keep the stack
    return EXIT_TOOL_ERROR;
  }
  const line = msg
    .replace(/^command (\S+) not found$/, (_, id: string) => `unknown ${id.startsWith('-') ? 'flag' : 'command'} "${id.replaceAll(':', ' ')}" (see --help)`)
    .replace(/\n\s*See more help with --help$/, ' (see --help)')
    .split('\n').map((l) => l.trim()).filter(Boolean).join(' ');
  process.stderr.write(`Error: ${line}\n`);
  const status = (err as { exitCode?: unknown }).exitCode;
  return typeof status === 'number' ? status : EXIT_TOOL_ERROR;
}

/** Runs one command line of a CLI; errors set the exit status. */
export interface CliSpec {
  /** The package dir, for oclif. */
  packageDir: string;
  /** The package.json, inlined by the bundle: nothing is read at start. */
  pjson: unknown;
  /** The COMMANDS table (command id -> class). */
  commands: Record<string, unknown>;
  /** Flags accepted before the command; default --root. */
  globals?: readonly GlobalFlag[];
  /**
   * Commands that run without oclif's command machinery (given the arguments after the
   * command's name); each resolves to the exit code, or -1 to leave the line to oclif.
   */
  fast?: Record<string, (argv: string[]) => Promise<number>>;
}

export async function runCli(argv: string[], spec: CliSpec): Promise<void> {
  try {
    const args = normalizeBooleanFlags(hoistGlobalFlags(argv, spec.globals), spec.commands);
    const fast = args[0] !== undefined ? spec.fast?.[args[0]] : undefined;
    if (fast) {
      const code = await fast(args.slice(1));
      if (code >= 0) {
        process.exitCode = code;
        return;
      }
    }
    await run(args, {
      root: spec.packageDir,
      pjson: spec.pjson as Interfaces.PJSON,
      userPlugins: false, // no plugin discovery: no $XDG_DATA_HOME/pkit/package.json lookup
      devPlugins: false,
    });
  } catch (err) {
    process.exitCode = reportError(err);
  }
}
