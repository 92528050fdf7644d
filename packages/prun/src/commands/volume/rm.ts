import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class VolumeRm extends BaseCommand {
  static override summary = 'Remove one or more volumes';
  static override description =
    'Prints the name of each removed volume. A volume that a container uses is refused (exit 2) unless --force, which removes those containers first; a volume that does not exist fails with exit 1 (as podman).';
  static override examples = ['<%= config.bin %> volume rm data', '<%= config.bin %> volume rm -f data', '<%= config.bin %> volume rm --all'];
  static override strict = false;
  static override args = {
    name: Args.string({ required: false, ignoreStdin: true, description: 'volume name(s)' }),
  };
  static override flags = {
    force: Flags.boolean({ char: 'f', summary: 'Remove the containers using the volume too' }),
    all: Flags.boolean({ char: 'a', summary: 'Remove all volumes' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(VolumeRm);
    const names = argv as string[];
    if (flags.all && names.length) this.error('--all and explicit volume names cannot be used together', { exit: 125 });
    if (!flags.all && !names.length) this.error('"prun volume rm" requires at least one NAME, or --all (see --help)', { exit: 125 });
    const { StoreError, volumeUsers } = await import('@pkit/storage');
    const { openVolumeStore } = await import('../../actions/volume-output.ts');
    const store = await openVolumeStore(flags.root);
    const errors: { message: string; exit: number }[] = [];
    try {
      const targets = flags.all ? (await store.volumes.list()).map((v) => v.name) : names;
      for (const name of targets) {
        try {
          if (flags.force && (await store.volumes.exists(name))) {
            const { deleteContainer } = await import('../rm.ts');
            for (const c of volumeUsers(name, await store.containers.list())) await deleteContainer(store, c.id);
          }
          await store.volumes.remove(name, { force: flags.force });
          this.log(name);
        } catch (err) {
          if (!(err instanceof StoreError)) throw err;
          // podman's codes: 1 no such volume, 2 in use
          errors.push({ message: err.message, exit: err.code === 'PKIT_NOT_FOUND' ? 1 : err.code === 'PKIT_VOLUME_IN_USE' ? 2 : 125 });
        }
      }
    } finally {
      store.close();
    }
    for (const e of errors) process.stderr.write(`Error: ${e.message}\n`);
    if (errors.length) this.exit(errors.at(-1)!.exit);
  }
}
