import { Args } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class VolumeExists extends BaseCommand {
  static override summary = 'Check if a volume exists';
  static override description = 'Exits 0 when the volume exists, 1 when it does not; prints nothing.';
  static override examples = ['<%= config.bin %> volume exists data && echo yes'];
  static override args = {
    name: Args.string({ required: true, ignoreStdin: true, description: 'volume name' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(VolumeExists);
    const { Store } = await import('@pkit/storage');
    const store = Store.open({ root: flags.root });
    let exists;
    try {
      exists = await store.volumes.exists(args.name);
    } finally {
      store.close();
    }
    if (!exists) this.exit(1);
  }
}
