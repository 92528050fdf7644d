import { Args } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Tag extends BaseCommand {
  static override summary = 'Add an additional name to a local image';
  static override description = 'Short names are stored under localhost/ (as podman). Prints nothing on success.';
  static override examples = ['<%= config.bin %> tag busybox:latest mybox:1', '<%= config.bin %> tag 0123abcd4567 registry.example.com/team/box:v2 box:v2'];
  static override strict = false;
  static override args = {
    source: Args.string({ required: true, ignoreStdin: true, description: 'image name or ID' }),
    target: Args.string({ required: true, ignoreStdin: true, description: 'new name(s) for the image' }),
  };

  async run(): Promise<void> {
    const { args, argv, flags } = await this.parse(Tag);
    const targets = (argv as string[]).slice(1);
    const { Store } = await import('@pkit/storage/store');
    const { tagImage } = await import('@pkit/cli-common/image-names');
    const store = Store.open({ root: flags.root });
    try {
      await tagImage(store, args.source, targets);
    } finally {
      store.close();
    }
  }
}
