import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class VolumeCreate extends BaseCommand {
  static override summary = 'Create a new volume';
  static override description = 'Prints the volume name. Without NAME a random 64-hex-digit name is chosen (as podman). Only the "local" driver exists; --opt values are recorded as given.';
  static override examples = ['<%= config.bin %> volume create data', '<%= config.bin %> volume create --label app=web'];
  static override args = {
    name: Args.string({ required: false, ignoreStdin: true, description: 'volume name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)' }),
  };
  static override flags = {
    driver: Flags.string({ char: 'd', summary: 'Volume driver (only "local")', default: 'local' }),
    label: Flags.string({ char: 'l', summary: 'Set a label on the volume (KEY=VALUE or KEY)', multiple: true, multipleNonGreedy: true }),
    opt: Flags.string({ char: 'o', summary: 'Set a driver option (KEY=VALUE or KEY)', multiple: true, multipleNonGreedy: true }),
    ignore: Flags.boolean({ summary: 'Do not fail when the volume exists: print its name' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(VolumeCreate);
    const { Store, StoreError } = await import('@pkit/storage');
    const { parseKeyValues } = await import('../../actions/volume-output.ts');
    if (flags.driver !== 'local') throw new StoreError(`volume driver "${flags.driver}" is not supported: only "local" is`, 'PKIT_BAD_INPUT');
    const labels = parseKeyValues(flags.label ?? [], 'label');
    const options = parseKeyValues(flags.opt ?? [], 'option');
    const store = Store.open({ root: flags.root });
    try {
      if (flags.ignore && args.name !== undefined && (await store.volumes.exists(args.name))) {
        this.log(args.name);
        return;
      }
      const vol = await store.volumes.create({ ...(args.name !== undefined ? { name: args.name } : {}), labels, options });
      this.log(vol.name);
    } finally {
      store.close();
    }
  }
}
