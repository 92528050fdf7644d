import { Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class ImagePrune extends BaseCommand {
  static override summary = 'Remove dangling images (with -a, every image no container uses)';
  static override description = 'Asks first unless -f: the question goes to stderr and the answer is read from stdin. Prints the full ID of each removed image.';
  static override examples = ['<%= config.bin %> image prune -f', '<%= config.bin %> image prune -a -f'];
  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'Remove all images not used by containers, not only dangling ones' }),
    force: Flags.boolean({ char: 'f', summary: 'Do not ask for confirmation' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(ImagePrune);
    const { confirm, pruneImages } = await import('../../actions/prune.ts');
    const warning = flags.all
      ? 'WARNING! This command removes all images without at least one container associated with them.'
      : 'WARNING! This command removes all dangling images.';
    if (!flags.force && !(await confirm(warning))) return;
    const { openStoreForLayers } = await import('../../actions/store.ts');
    const store = openStoreForLayers(flags.root);
    try {
      const { removed } = await pruneImages(store, { all: flags.all });
      for (const id of removed) this.log(id.slice('sha256:'.length));
    } finally {
      store.close();
    }
  }
}
