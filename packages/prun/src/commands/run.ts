import { Args, Flags } from '@oclif/core';
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
    // Split at IMAGE: oclif would otherwise read the command's own options (`sh -c ...`).
    const { valueFlags, shortBooleans } = flagShapes({ ...Run.flags, root: { type: 'option' } } as never);
    const { own, image, command } = splitAtImage(this.argv, valueFlags, shortBooleans);
    // IMAGE first: multiple-value flags would take it as one of their values.
    const { flags } = await this.parse(Run, [...(image !== undefined ? [image] : []), ...own]);
    if (image === undefined) this.error('"prun run" requires an IMAGE (see --help)', { exit: 125 });
    const { runAction } = await import('../actions/run.ts');
    const code = await runAction({ ...toRequest(flags, image, command), detach: flags.detach });
    if (code !== 0) this.exit(code);
  }
}
