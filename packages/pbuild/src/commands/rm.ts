import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Rm extends BaseCommand {
  static override summary = 'Remove working containers';
  static override description = 'Prints the ID of each removed container (as buildah).';
  static override examples = ['<%= config.bin %> rm busybox-working-container', '<%= config.bin %> rm --all'];
  static override strict = false;
  static override args = { container: Args.string({ required: false, ignoreStdin: true, description: 'working container name or ID' }) };
  static override flags = { all: Flags.boolean({ char: 'a', summary: 'Remove all working containers' }) };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Rm);
    const queries = argv as string[];
    if (!flags.all && !queries.length) this.error('"pbuild rm" requires a CONTAINER, or --all (see --help)', { exit: 125 });
    const { openStore, findWorking, isWorking, removeWorking } = await import('../actions/working.ts');
    const store = openStore(flags.root);
    try {
      const targets = flags.all ? (await store.containers.list()).filter(isWorking) : await Promise.all(queries.map((q) => findWorking(store, q)));
      for (const rec of targets) {
        await removeWorking(store, rec);
        this.log(rec.id);
      }
    } finally {
      store.close();
    }
  }
}
