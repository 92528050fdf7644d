import { Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Ps extends BaseCommand {
  static override summary = 'List containers';
  static override description = 'Without --all only running containers are listed (as podman). --format takes json, table, or a Go template over ID, Names, Image, Command, Status, State, Ports, Labels, CreatedAt.';
  static override examples = ['<%= config.bin %> ps -a', '<%= config.bin %> ps -aq', '<%= config.bin %> ps -a --format json', '<%= config.bin %> ps -a --filter status=exited --format "{{.Names}} {{.Status}}"'];
  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'Show all the containers, default is only running containers' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Print the numeric IDs of the containers only' }),
    format: Flags.string({ summary: 'Output format: json, table (default), or a Go template' }),
    filter: Flags.string({ char: 'f', summary: 'Filter: name=, id=, status=, label=, ancestor=, exited=', multiple: true }),
    last: Flags.integer({ char: 'n', summary: 'Show the N last created containers (all states)' }),
    latest: Flags.boolean({ char: 'l', summary: 'Show the last created container (all states)' }),
    'no-trunc': Flags.boolean({ summary: 'Do not truncate IDs and commands' }),
    noheading: Flags.boolean({ summary: 'Do not print column headings' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Ps);
    const { psAction } = await import('../actions/ps.ts');
    const text = await psAction({
      root: flags.root,
      all: flags.all,
      quiet: flags.quiet,
      noTrunc: flags['no-trunc'],
      noHeading: flags.noheading,
      filters: flags.filter ?? [],
      latest: flags.latest,
      ...(flags.format !== undefined ? { format: flags.format } : {}),
      ...(flags.last !== undefined ? { last: flags.last } : {}),
    });
    if (text) this.log(text);
  }
}
