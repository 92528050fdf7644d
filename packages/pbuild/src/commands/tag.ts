import { Args } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Tag extends BaseCommand {
  static override summary = 'Add additional names to a local image';
  static override description = 'Short names are stored under localhost/ (as buildah). Prints nothing on success.';
  static override examples = ['<%= config.bin %> tag myimage myimage:1', '<%= config.bin %> tag myimage registry.example.com/team/app:2 app:2'];
  static override strict = false;
  static override args = {
    image: Args.string({ required: true, ignoreStdin: true, description: 'image name or ID' }),
    name: Args.string({ required: true, ignoreStdin: true, description: 'new name(s) for the image' }),
  };

  async run(): Promise<void> {
    const { args, argv, flags } = await this.parse(Tag);
    const { Store } = await import('@pkit/storage/store');
    const { tagImage } = await import('@pkit/cli-common/image-names');
    const store = Store.open({ root: flags.root });
    try {
      await tagImage(store, args.image, (argv as string[]).slice(1));
    } finally {
      store.close();
    }
  }
}
