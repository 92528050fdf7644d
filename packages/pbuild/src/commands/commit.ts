import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Commit extends BaseCommand {
  static override summary = 'Make an image of a working container';
  static override description = 'The container\'s changes become one new layer on top of its image; prints the new image\'s ID.';
  static override examples = ['<%= config.bin %> commit busybox-working-container myimage'];
  static override args = {
    container: Args.string({ required: true, ignoreStdin: true, description: 'working container name or ID' }),
    image: Args.string({ required: false, ignoreStdin: true, description: 'name for the new image' }),
  };
  static override flags = { quiet: Flags.boolean({ char: 'q', summary: 'Print only the image ID (the default here)' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Commit);
    const { openStore, findWorking, commit } = await import('../actions/working.ts');
    const store = openStore(flags.root);
    try {
      const image = await commit(store, await findWorking(store, args.container), args.image);
      this.log(image.id.slice('sha256:'.length));
    } finally {
      store.close();
    }
  }
}
