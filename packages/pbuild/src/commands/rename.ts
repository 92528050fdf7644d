import { Args } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Rename extends BaseCommand {
  static override summary = 'Rename a working container';
  static override description = 'As buildah: prints nothing on success. The name must be free, and differ from the current one.';
  static override examples = ['<%= config.bin %> rename busybox-working-container builder'];
  static override args = {
    container: Args.string({ required: true, ignoreStdin: true, description: 'working container name or ID' }),
    name: Args.string({ required: true, ignoreStdin: true, description: 'its new name' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Rename);
    const { openStore, findWorking } = await import('../actions/working.ts');
    const store = openStore(flags.root);
    try {
      const rec = await findWorking(store, args.container);
      await store.containers.rename(rec.id, args.name);
    } finally {
      store.close();
    }
  }
}
