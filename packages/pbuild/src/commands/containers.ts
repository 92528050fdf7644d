import { Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Containers extends BaseCommand {
  static override summary = 'List working containers';
  static override examples = ['<%= config.bin %> containers', '<%= config.bin %> containers -q'];
  static override flags = {
    quiet: Flags.boolean({ char: 'q', summary: 'Print only the container IDs' }),
    json: Flags.boolean({ summary: 'Print as JSON' }),
    noheading: Flags.boolean({ char: 'n', summary: 'Do not print column headings' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Containers);
    const { openStore, isWorking } = await import('../actions/working.ts');
    const store = openStore(flags.root);
    let rows;
    try {
      rows = (await store.containers.list()).filter(isWorking);
    } finally {
      store.close();
    }
    if (flags.json) {
      this.log(JSON.stringify(rows.map((c) => ({ id: c.id, builder: true, imageid: c.image.slice(7), imagename: c.imageName, containername: c.name })), null, 4));
      return;
    }
    if (flags.quiet) {
      for (const c of rows) this.log(c.id.slice(0, 12));
      return;
    }
    // buildah's columns
    const lines = rows.map((c) => `${c.id.slice(0, 12)}     *     ${c.image.slice(7, 19)} ${c.imageName.padEnd(32)} ${c.name}`);
    if (!flags.noheading) lines.unshift(`CONTAINER ID  BUILDER  IMAGE ID     IMAGE NAME                       CONTAINER NAME`);
    if (lines.length) this.log(lines.join('\n'));
  }
}
