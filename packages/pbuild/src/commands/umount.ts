import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Umount extends BaseCommand {
  static override summary = 'Unmount a working container\'s root filesystem';
  static override description = 'Prints the ID of each container (as buildah), also when it was not mounted here. Mounts made inside "pbuild unshare" can only be unmounted there (they end with it anyway).';
  static override examples = ['<%= config.bin %> umount busybox-working-container', '<%= config.bin %> umount --all'];
  static override strict = false;
  static override args = { container: Args.string({ required: false, ignoreStdin: true, description: 'working container name or ID' }) };
  static override flags = { all: Flags.boolean({ char: 'a', summary: 'Unmount every working container mounted here' }) };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Umount);
    const queries = argv as string[];
    if (!flags.all && !queries.length) this.error('"pbuild umount" requires a CONTAINER, or --all (see --help)', { exit: 125 });
    const { mountedWorking, unmountWorking } = await import('../actions/mount.ts');
    const { openStore, findWorking, isWorking } = await import('../actions/working.ts');
    const store = openStore(flags.root);
    try {
      const targets = flags.all ? mountedWorking(store, (await store.containers.list()).filter(isWorking)) : await Promise.all(queries.map((q) => findWorking(store, q)));
      for (const rec of targets) {
        unmountWorking(store, rec);
        this.log(rec.id);
      }
    } finally {
      store.close();
    }
  }
}
