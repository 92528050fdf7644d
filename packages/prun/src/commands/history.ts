import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class History extends BaseCommand {
  static override summary = 'Show the history of an image';
  static override description = 'Newest first: each history entry of the image config with the size of the layer it made. IDs of entries below the top are "<missing>" unless another image ends at that layer (as podman).';
  static override examples = ['<%= config.bin %> history busybox', '<%= config.bin %> image history --no-trunc --format json app:1'];
  static override args = {
    image: Args.string({ required: true, ignoreStdin: true, description: 'image name or ID' }),
  };
  static override flags = {
    'no-trunc': Flags.boolean({ summary: 'Do not truncate the output' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Display the numeric IDs only' }),
    format: Flags.string({ summary: 'Output format: json or table (default)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(History);
    if (flags.format && flags.format !== 'json' && flags.format !== 'table') this.error(`unknown --format "${flags.format}": use json or table`, { exit: 125 });
    const { Store, humanAge, humanSize } = await import('@pkit/storage');
    const { imageHistory } = await import('../actions/history.ts');
    const { formatTable } = await import('../actions/table.ts');
    const store = Store.open({ root: flags.root });
    let entries;
    try {
      entries = await imageHistory(store, args.image);
    } finally {
      store.close();
    }
    if (flags.format === 'json') {
      // podman's keys: omitted when empty, and Created again in RFC 3339 seconds.
      const rows = entries.map((e) => ({
        id: e.id,
        ...(e.created !== undefined ? { created: e.created } : {}),
        ...(e.createdBy ? { CreatedBy: e.createdBy } : {}),
        ...(e.tags.length ? { tags: e.tags } : {}),
        size: e.size,
        ...(e.comment ? { comment: e.comment } : {}),
        Created: e.created !== undefined ? new Date(e.created).toISOString().replace(/\.\d+Z$/, 'Z') : '0001-01-01T00:00:00Z',
      }));
      this.log(JSON.stringify(rows));
      return;
    }
    const id = (full: string) => (flags['no-trunc'] || full.length < 12 ? full : full.slice(0, 12));
    if (flags.quiet) {
      for (const e of entries) this.log(id(e.id));
      return;
    }
    const createdBy = (s: string) => (flags['no-trunc'] || s.length <= 45 ? s : `${s.slice(0, 42)}...`);
    const rows = entries.map((e) => [id(e.id), e.created ? humanAge(new Date(e.created)) : '', createdBy(e.createdBy), humanSize(e.size), e.comment]);
    this.log(formatTable([['ID', 'CREATED', 'CREATED BY', 'SIZE', 'COMMENT'], ...rows]));
  }
}
