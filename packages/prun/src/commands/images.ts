import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Images extends BaseCommand {
  static override summary = 'List images in local storage';
  static override examples = ['<%= config.bin %> images', '<%= config.bin %> images -q', '<%= config.bin %> images --format json'];
  static override args = {
    image: Args.string({ required: false, ignoreStdin: true, description: 'show only images matching this name' }),
  };
  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'Show all images, also the intermediate images of builds' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Display only image IDs' }),
    format: Flags.string({ summary: 'Output format: json, table (default), or a Go template over Repository, Tag, ID, Digest, CreatedSince, CreatedAt, Size' }),
    filter: Flags.string({ char: 'f', summary: 'Filter: dangling=true|false, reference=PATTERN', multiple: true }),
    'no-trunc': Flags.boolean({ summary: 'Do not truncate image IDs' }),
    noheading: Flags.boolean({ char: 'n', summary: 'Do not print column headings' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Images);
    const { Store, listImages, splitRepoTag, humanAge, humanSize } = await import('@pkit/storage');
    const { filterImages, imageRows, imagesNamed, intermediates } = await import('@pkit/cli-common/image-list');
    const store = Store.open({ root: flags.root });
    let images;
    try {
      images = await listImages(store);
      if (!flags.all) {
        const hidden = intermediates(images);
        images = images.filter((i) => !hidden.has(i.id));
      }
    } finally {
      store.close();
    }
    if (args.image) images = imagesNamed(images, args.image);
    images = filterImages(images, flags.filter ?? []);
    const shortId = (id: string) => (flags['no-trunc'] ? id : id.slice(7, 19));

    if (flags.format === 'json') {
      const rows = images.map((i) => ({
        Id: i.id.slice(7),
        RepoTags: i.names,
        RepoDigests: [...new Set(i.names.map((n) => `${splitRepoTag(n)[0]}@${i.digest}`))],
        Size: i.size,
        VirtualSize: i.size,
        Names: i.names,
        Digest: i.digest,
        Created: Math.floor(new Date(i.created).getTime() / 1000),
        CreatedAt: i.created,
        Dangling: i.names.length === 0,
      }));
      this.log(JSON.stringify(rows, null, 4));
      return;
    }
    if (flags.format && flags.format !== 'table') {
      if (!flags.format.includes('{{')) this.error(`unknown --format "${flags.format}": use json, table or a Go template such as {{.Repository}}:{{.Tag}}`, { exit: 125 });
      const { compileTemplate } = await import('@pkit/cli-common/go-template');
      const render = compileTemplate(flags.format.replace(/^table\s+/, ''));
      for (const { repository, tag, image: i } of imageRows(images)) {
        this.log(render({ Repository: repository, Tag: tag, ID: shortId(i.id), Id: i.id.slice(7), Digest: i.digest, CreatedSince: humanAge(new Date(i.created)), CreatedAt: i.created, Size: humanSize(i.size), Names: i.names }));
      }
      return;
    }
    if (flags.quiet) {
      for (const id of new Set(images.map((i) => shortId(i.id)))) this.log(id);
      return;
    }
    const rows = imageRows(images).map(({ repository, tag, image: i }) => [repository, tag, shortId(i.id), humanAge(new Date(i.created)), humanSize(i.size)]);
    const header = ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'];
    const { PODMAN_TABLE, alignColumns } = await import('@pkit/cli-common/table');
    this.log(alignColumns(flags.noheading ? rows : [header, ...rows], PODMAN_TABLE));
  }
}
