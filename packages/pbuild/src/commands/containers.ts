import { Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Containers extends BaseCommand {
  static override summary = 'List working containers';
  static override description =
    'buildah\'s columns. --all adds the containers of prun (BUILDER empty). --format takes a Go template over ContainerID, Builder, ImageID, ImageName, ContainerName, ' +
    'each space separating columns as buildah\'s ("table ..." adds headings).';
  static override examples = ['<%= config.bin %> containers', '<%= config.bin %> containers -a -q', '<%= config.bin %> containers --format "{{.ContainerName}} {{.ImageName}}"', '<%= config.bin %> containers --filter ancestor=busybox --json'];
  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'Also list the containers of prun' }),
    filter: Flags.string({ char: 'f', summary: 'Filter: id=PREFIX, name=TEXT, ancestor=IMAGE', multiple: true }),
    format: Flags.string({ summary: 'A Go template per container ("table ..." adds headings)' }),
    json: Flags.boolean({ summary: 'Print as JSON' }),
    noheading: Flags.boolean({ char: 'n', summary: 'Do not print column headings' }),
    notruncate: Flags.boolean({ summary: 'Do not truncate IDs and image names' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Print only the container IDs' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Containers);
    const { containersOutput } = await import('../actions/containers.ts');
    const lines = await containersOutput({
      root: flags.root,
      all: flags.all,
      filters: flags.filter ?? [],
      format: flags.format,
      json: flags.json,
      noHeading: flags.noheading,
      noTruncate: flags.notruncate,
      quiet: flags.quiet,
    });
    for (const line of lines) this.log(line);
  }
}
