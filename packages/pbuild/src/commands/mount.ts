import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Mount extends BaseCommand {
  static override summary = 'Mount a working container\'s root filesystem';
  static override description =
    'Prints where the root is mounted (NAME PATH per container when several are given); without a container, lists the working containers mounted here (NAME PATH). ' +
    'Rootless, this works only inside "pbuild unshare": the mount belongs to that session and goes away with it.';
  static override examples = ['<%= config.bin %> unshare sh -c \'mnt=$(<%= config.bin %> mount C); cp app "$mnt/usr/bin/"; <%= config.bin %> umount C\''];
  static override strict = false;
  static override args = { container: Args.string({ required: false, ignoreStdin: true, description: 'working container name or ID' }) };
  static override flags = { json: Flags.boolean({ summary: 'Output in JSON format' }) };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Mount);
    const queries = argv as string[];
    const { requireSession, mountWorking, mountedWorking, mountPoint } = await import('../actions/mount.ts');
    requireSession();
    const { openStore, findWorking, isWorking } = await import('../actions/working.ts');
    const store = openStore(flags.root);
    const out: Array<{ container: string; mountPoint: string }> = [];
    try {
      if (queries.length === 0) {
        for (const rec of mountedWorking(store, (await store.containers.list()).filter(isWorking))) out.push({ container: rec.name, mountPoint: mountPoint(store, rec) });
      } else {
        for (const q of queries) {
          const rec = await findWorking(store, q);
          out.push({ container: rec.name, mountPoint: mountWorking(store, rec) });
        }
      }
    } finally {
      store.close();
    }
    // As buildah: one container given prints its path alone.
    const single = queries.length === 1;
    if (flags.json) this.log(JSON.stringify(single ? [{ mountPoint: out[0]!.mountPoint }] : out, null, 4));
    else for (const m of out) this.log(single ? m.mountPoint : `${m.container} ${m.mountPoint}`);
  }
}
