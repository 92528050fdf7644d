import { Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class SystemDf extends BaseCommand {
  static override summary = 'Show the disk space used by images, containers and volumes';
  static override description = 'Image sizes are the unpacked layers, a shared layer counted once; RECLAIMABLE is what prunes could free (images no container uses, containers not running).';
  static override examples = ['<%= config.bin %> system df', '<%= config.bin %> system df --format json'];
  static override flags = {
    format: Flags.string({ summary: 'Output format: json or table (default)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(SystemDf);
    if (flags.format && flags.format !== 'json' && flags.format !== 'table') this.error(`unknown --format "${flags.format}": use json or table`, { exit: 125 });
    const { Store } = await import('@pkit/storage');
    const { diskUsage } = await import('../../actions/system-df.ts');
    const { formatTable } = await import('../../actions/table.ts');
    const store = Store.open({ root: flags.root });
    let rows;
    try {
      rows = await diskUsage(store);
    } finally {
      store.close();
    }
    if (flags.format === 'json') {
      this.log(JSON.stringify(rows, null, 4));
      return;
    }
    const table = rows.map((r) => [r.Type, String(r.Total), String(r.Active), r.Size, r.Reclaimable]);
    this.log(formatTable([['TYPE', 'TOTAL', 'ACTIVE', 'SIZE', 'RECLAIMABLE'], ...table]));
  }
}
