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
    const { Store, findImage, localImageName } = await import('@pkit/storage');
    // Every name is checked before any is written: a bad one leaves nothing half-done.
    const names = targets.map((t) => localImageName(t));
    const store = Store.open({ root: flags.root });
    try {
      const image = await findImage(store, args.source);
      for (const name of names) await store.images.tag(name, image.id);
    } finally {
      store.close();
    }
  }
}
