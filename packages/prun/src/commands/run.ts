import { Args, Flags, Parser } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';
import { CONTAINER_FLAGS, flagShapes, splitAtImage, toRequest } from './run-flags.ts';

export default class Run extends BaseCommand {
  static override summary = 'Run a command in a new container';
  static override description =
    'Options go before IMAGE; everything after IMAGE is the command and its arguments (as podman). Exits with the command\'s code: 125 when prun fails, 126 when the command cannot be executed, 127 when it is not found. With -d the container runs in the background and its ID is printed.';
  static override examples = [
    '<%= config.bin %> run --rm busybox echo hi',
    '<%= config.bin %> run --rm -it busybox sh',
    '<%= config.bin %> run -d --name web busybox httpd -f -p 8080',
    'tar c . | <%= config.bin %> run --rm -i busybox tar x -C /tmp',
  ];
  // The command after IMAGE is taken as it is: flags there are the command's (see run()).
  static override strict = false;
  // ignoreStdin: oclif reads stdin for a missing arg otherwise, and stdin is the container's.
  static override args = {
    image: Args.string({ required: true, ignoreStdin: true, description: 'image name or ID' }),
    command: Args.string({ required: false, ignoreStdin: true, description: 'command and arguments (default: the image\'s)' }),
  };
  static override flags = {
    ...CONTAINER_FLAGS,
    detach: Flags.boolean({ char: 'd', summary: 'Run in the background and print the container ID' }),
  };

  async run(): Promise<void> {
    const code = await runCommandLine(this.argv, (argv) => this.parse(Run, argv));
    if (code !== 0) this.exit(code);
  }
}

type ParseRun = (argv: string[]) => Promise<{ flags: Record<string, unknown> & { detach: boolean } }>;

/** Splits at IMAGE, parses the flags before it, and runs; resolves to the exit code. */
async function runCommandLine(argv: string[], parse: ParseRun): Promise<number> {
  // Split at IMAGE: oclif would otherwise read the command's own options (`sh -c ...`).
  const { valueFlags, shortBooleans } = flagShapes({ ...Run.flags, root: { type: 'option' } } as never);
  const { own, image, command } = splitAtImage(argv, valueFlags, shortBooleans);
  if (own.includes('--help')) return -1;
  if (image === undefined) throw Object.assign(new Error('"prun run" requires at least 1 argument, an IMAGE (see --help)'), { code: 'PKIT_USAGE' });
  // IMAGE first: multiple-value flags would take it as one of their values.
  const { flags } = await parse([image, ...own]);
  const { runAction } = await import('../actions/run.ts');
  return runAction({ ...toRequest(flags as never, image, command), detach: flags.detach });
}

/**
 * `prun run` without oclif's command machinery (config, plugins, hooks): the most frequent
 * command, where start-up shows. Flags are parsed by oclif's own parser with the same
 * definitions. Resolves to the exit code, or -1 when oclif should handle the line (--help).
 */
export function runFast(argv: string[]): Promise<number> {
  return runCommandLine(argv, (a) => Parser.parse(a, { flags: { ...BaseCommand.baseFlags, ...Run.flags }, args: Run.args, strict: false }) as never);
}
