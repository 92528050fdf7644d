// What the three CLIs share, so it exists once: the global `--root` flag, how oclif is started,
// and how an escaped error is reported (docs/cli.md). CLIs depend on this package, never on
// each other.
import { Command, Flags, run, type Interfaces } from '@oclif/core';

export abstract class BaseCommand extends Command {
  static override baseFlags = {
    root: Flags.string({ summary: 'Store root directory (default: per-user data dir).', env: 'PKIT_ROOT', helpGroup: 'GLOBAL' }),
  };
}

/**
 * Global flags may come before the command, as with podman (`prun --root DIR images`); oclif
 * only parses flags after it. A leading `--root` is handed over through its env variable, which
 * the flag reads, so the command line after the command is never rearranged.
 */
export function hoistGlobalFlags(argv: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  let i = 0;
  while (i < argv.length) {
    const a = argv[i]!;
    if (a === '--root' && i + 1 < argv.length) {
      env.PKIT_ROOT = argv[i + 1];
      i += 2;
    } else if (a.startsWith('--root=')) {
      env.PKIT_ROOT = a.slice('--root='.length);
      i += 1;
    } else break;
  }
  return argv.slice(i);
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
  return EXIT_TOOL_ERROR;
}

/**
 * Runs one command line of a CLI whose package dir is `packageDir` and whose package.json is
 * `pjson` (inlined by the bundle: nothing is read at start); errors set the exit status.
 */
export async function runCli(argv: string[], packageDir: string, pjson: unknown): Promise<void> {
  try {
    await run(hoistGlobalFlags(argv), {
      root: packageDir,
      pjson: pjson as Interfaces.PJSON,
      userPlugins: false, // no plugin discovery: no $XDG_DATA_HOME/pkit/package.json lookup
      devPlugins: false,
    });
  } catch (err) {
    process.exitCode = reportError(err);
  }
}
