import { Args } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';
import { CONTAINER_FLAGS, flagShapes, splitAtImage, toRequest } from './run-flags.ts';

export default class Create extends BaseCommand {
  static override summary = 'Create a container without starting it';
  static override description = 'Takes the options of "prun run"; prints the new container\'s ID. Start it with "prun start".';
  static override examples = ['<%= config.bin %> create --name job busybox echo hi', '<%= config.bin %> start -a job'];
  static override strict = false;
  static override args = {
    image: Args.string({ required: true, ignoreStdin: true, description: 'image name or ID' }),
    command: Args.string({ required: false, ignoreStdin: true, description: 'command and arguments (default: the image\'s)' }),
  };
  static override flags = CONTAINER_FLAGS;

  async run(): Promise<void> {
    const { valueFlags, shortBooleans } = flagShapes({ ...Create.flags, root: { type: 'option' } } as never);
    const { own, image, command } = splitAtImage(this.argv, valueFlags, shortBooleans);
    const { flags } = await this.parse(Create, [...(image !== undefined ? [image] : []), ...own]);
    if (image === undefined) this.error('"prun create" requires an IMAGE (see --help)', { exit: 125 });
    const { createAction } = await import('../actions/run.ts');
    const code = await createAction(toRequest(flags, image, command));
    if (code !== 0) this.exit(code);
  }
}
