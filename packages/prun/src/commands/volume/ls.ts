import { Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class VolumeLs extends BaseCommand {
  static override summary = 'List volumes';
  static override description = 'A table of DRIVER and VOLUME NAME, sorted by name (nothing at all when there are no volumes, as podman).';
  static override examples = ['<%= config.bin %> volume ls', '<%= config.bin %> volume ls -q', '<%= config.bin %> volume ls --format json', "<%= config.bin %> volume ls --format '{{.Name}} {{.Mountpoint}}'"];
  static override flags = {
    quiet: Flags.boolean({ char: 'q', summary: 'Print volume names only' }),
    format: Flags.string({ summary: 'json, table (default), or a template such as "{{.Name}}"' }),
    noheading: Flags.boolean({ char: 'n', summary: 'Do not print column headings' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(VolumeLs);
    const { Store } = await import('@pkit/storage');
    const { inspectJson, renderTemplate, templateHeading, volumeTable } = await import('../../actions/volume-output.ts');
    const store = Store.open({ root: flags.root });
    let volumes;
    try {
      volumes = await store.volumes.list();
    } finally {
      store.close();
    }
    if (flags.format === 'json') {
      this.log(JSON.stringify(volumes.map(inspectJson), null, 2));
      return;
    }
    if (flags.format !== undefined && flags.format !== 'table') {
      const heading = templateHeading(flags.format);
      if (heading !== undefined && !flags.noheading) this.log(heading);
      for (const v of volumes) this.log(renderTemplate(flags.format, inspectJson(v)));
      return;
    }
    if (flags.quiet) {
      for (const v of volumes) this.log(v.name);
      return;
    }
    const text = volumeTable(volumes, !flags.noheading);
    if (text) this.log(text);
  }
}
