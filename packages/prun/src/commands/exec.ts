import { Args, Flags, Parser } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';
import { flagShapes, splitAtImage } from './run-flags.ts';

export default class Exec extends BaseCommand {
  static override summary = 'Run a command in a running container';
  static override description = 'Options go before CONTAINER; everything after it is the command. Exits with the command\'s code (125 when prun fails, 126/127 when the command cannot be run).';
  static override examples = ['<%= config.bin %> exec web ls /', '<%= config.bin %> exec -it web sh', '<%= config.bin %> exec -u 1000 -w /tmp -e A=1 web env'];
  static override strict = false;
  static override args = {
    container: Args.string({ required: true, ignoreStdin: true, description: 'container name or ID' }),
    command: Args.string({ required: true, ignoreStdin: true, description: 'command and arguments' }),
  };
  static override flags = {
    interactive: Flags.boolean({ char: 'i', summary: 'Pass stdin to the command' }),
    tty: Flags.boolean({ char: 't', summary: 'Allocate a pseudo-terminal' }),
    detach: Flags.boolean({ char: 'd', summary: 'Run the command in the background' }),
    env: Flags.string({ char: 'e', summary: 'Set an environment variable (KEY=VALUE, or KEY to take it from here)', multiple: true }),
    'env-file': Flags.string({ summary: 'Read environment variables from a file', multiple: true }),
    workdir: Flags.string({ char: 'w', summary: 'Working directory' }),
    user: Flags.string({ char: 'u', summary: 'User[:group] (names from the container\'s /etc/passwd and /etc/group, or numbers)' }),
    privileged: Flags.boolean({ summary: 'Accepted for compatibility; rootless gives no more than the container has' }),
  };

  async run(): Promise<void> {
    const code = await execCommandLine(this.argv, (argv) => this.parse(Exec, argv) as never);
    if (code !== 0) this.exit(code);
  }
}

type ParseExec = (argv: string[]) => Promise<{ flags: Record<string, unknown> }>;

/** Splits at CONTAINER, parses the flags before it, and runs; resolves to the exit code. */
async function execCommandLine(argv: string[], parse: ParseExec): Promise<number> {
  const { valueFlags, shortBooleans } = flagShapes({ ...Exec.flags, root: { type: 'option' } } as never);
  const { own, image: container, command } = splitAtImage(argv, valueFlags, shortBooleans);
  if (own.includes('--help')) return -1;
  if (container === undefined || command.length === 0) {
    throw Object.assign(new Error('"prun exec" requires a CONTAINER and a COMMAND (see --help)'), { code: 'PKIT_USAGE' });
  }
  const { flags: f } = await parse([container, command[0]!, ...own]);
  const flags = f as { root?: string; interactive: boolean; tty: boolean; detach: boolean; env?: string[]; 'env-file'?: string[]; workdir?: string; user?: string };
  const { execAction } = await import('../actions/exec.ts');
  return execAction({
    root: flags.root,
    container,
    command,
    interactive: flags.interactive,
    tty: flags.tty,
    detach: flags.detach,
    env: flags.env ?? [],
    envFiles: flags['env-file'] ?? [],
    ...(flags.workdir !== undefined ? { workdir: flags.workdir } : {}),
    ...(flags.user !== undefined ? { user: flags.user } : {}),
  });
}

/** `prun exec` without oclif's command machinery, as `prun run` (see runFast). */
export function execFast(argv: string[]): Promise<number> {
  return execCommandLine(argv, (a) => Parser.parse(a, { flags: { ...BaseCommand.baseFlags, ...Exec.flags }, args: Exec.args, strict: false }) as never);
}
