import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Images extends BaseCommand {
  static override summary = 'List images in local storage';
  static override description = 'buildah\'s columns; IMAGE shows that one image with all its names. Images other images were built on are shown only with --all.';
  static override examples = ['<%= config.bin %> images', '<%= config.bin %> images -q', '<%= config.bin %> images --json', '<%= config.bin %> images --format "{{.Name}}:{{.Tag}} {{.ID}}"'];
  static override args = {
    image: Args.string({ required: false, ignoreStdin: true, description: 'show only this image (name or ID)' }),
  };
  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'Show all images, including intermediate images of a build' }),
    digests: Flags.boolean({ summary: 'Show the image digests' }),
    filter: Flags.string({ char: 'f', summary: 'Filter: dangling=true|false, reference=PATTERN', multiple: true }),
    format: Flags.string({ summary: 'Go template over Name, Tag, ID, Digest, CreatedAt, Created, CreatedAtRaw, Size, ReadOnly ("table ..." adds headings), or json' }),
    json: Flags.boolean({ summary: 'Output in JSON format' }),
    'no-trunc': Flags.boolean({ summary: 'Do not truncate image IDs' }),
    noheading: Flags.boolean({ char: 'n', summary: 'Do not print column headings' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Display only image IDs' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Images);
    const { imagesOutput } = await import('../actions/images.ts');
    const lines = await imagesOutput({
      root: flags.root,
      image: args.image,
      all: flags.all,
      digests: flags.digests,
      filters: flags.filter ?? [],
      format: flags.format,
      json: flags.json,
      noTrunc: flags['no-trunc'],
      noHeading: flags.noheading,
      quiet: flags.quiet,
    });
    for (const line of lines) this.log(line);
  }
}
