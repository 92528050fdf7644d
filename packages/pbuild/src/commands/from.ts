import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class From extends BaseCommand {
  static override summary = 'Create a working container from an image';
  static override description = 'Prints the working container\'s name (IMAGE-working-container, as buildah), for pbuild run, copy, config and commit.';
  static override examples = ['<%= config.bin %> from busybox', 'ctr=$(<%= config.bin %> from busybox); <%= config.bin %> run $ctr -- touch /x; <%= config.bin %> commit $ctr mine'];
  static override args = { image: Args.string({ required: true, ignoreStdin: true, description: 'image name or ID' }) };
  static override flags = { name: Flags.string({ summary: 'Name of the working container' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(From);
    const { openStore, fromImage } = await import('../actions/working.ts');
    const store = openStore(flags.root);
    try {
      this.log(await fromImage(store, args.image, flags.name));
    } finally {
      store.close();
    }
  }
}
