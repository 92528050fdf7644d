import { Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class SystemPrune extends BaseCommand {
  static override summary = 'Remove stopped containers and dangling images (with -a, every unused image)';
  static override description =
    'Asks first unless -f: the question goes to stderr and the answer is read from stdin. Prints what it removed, by kind, and the space reclaimed.';
  static override examples = ['<%= config.bin %> system prune -f', '<%= config.bin %> system prune -a -f'];
  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'Remove all images no container uses, not only dangling ones' }),
    force: Flags.boolean({ char: 'f', summary: 'Do not ask for confirmation' }),
    volumes: Flags.boolean({ summary: 'Remove the volumes no container uses too' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SystemPrune);
    const { confirm } = await import('../../actions/prune.ts');
    const what = [
      'all stopped containers',
      ...(flags.volumes ? ['all volumes not used by at least one container'] : []),
      flags.all ? 'all images without at least one container associated with them' : 'all dangling images',
    ];
    if (!flags.force && !(await confirm(`WARNING! This command removes:\n${what.map((w) => `\t- ${w}`).join('\n')}\n`))) return;
    const { systemPrune } = await import('../../actions/system-prune.ts');
    const { dfSize } = await import('../../actions/system-df.ts');
    const { openStoreForLayers } = await import('../../actions/store.ts');
    const store = openStoreForLayers(flags.root);
    try {
      const r = await systemPrune(store, { all: flags.all, volumes: flags.volumes });
      if (r.containers.length) this.log(['Deleted Containers', ...r.containers].join('\n'));
      if (r.volumes.length) this.log(['Deleted Volumes', ...r.volumes].join('\n'));
      if (r.images.length) this.log(['Deleted Images', ...r.images].join('\n'));
      this.log(`Total reclaimed space: ${dfSize(r.reclaimed)}`);
    } finally {
      store.close();
    }
  }
}
