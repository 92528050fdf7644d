import { Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class VolumePrune extends BaseCommand {
  static override summary = 'Remove all volumes no container uses';
  static override description = 'Prints the names of the removed volumes. Without --force it lists them and asks first.';
  static override examples = ['<%= config.bin %> volume prune -f'];
  static override flags = {
    force: Flags.boolean({ char: 'f', summary: 'Do not ask for confirmation' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(VolumePrune);
    const { volumeUsers } = await import('@pkit/storage');
    const { openVolumeStore, confirm } = await import('../../actions/volume-output.ts');
    const store = await openVolumeStore(flags.root);
    try {
      if (!flags.force) {
        const containers = await store.containers.list();
        const unused = (await store.volumes.list()).filter((v) => volumeUsers(v.name, containers).length === 0);
        // on stdout, as podman
        this.log('WARNING! This will remove all volumes not used by at least one container. The following volumes will be removed:');
        if (unused.length === 0) {
          this.log('No dangling volumes found');
          return;
        }
        for (const v of unused) this.log(v.name);
        if (!(await confirm('Are you sure you want to continue? [y/N] '))) return;
      }
      for (const name of await store.volumes.prune()) this.log(name);
    } finally {
      store.close();
    }
  }
}
