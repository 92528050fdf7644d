import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Images extends BaseCommand {
  static override summary = 'List images in local storage';
  static override examples = ['<%= config.bin %> images', '<%= config.bin %> images -q', '<%= config.bin %> images --format json'];
  static override args = {
    image: Args.string({ required: false, ignoreStdin: true, description: 'show only images matching this name' }),
  };
  static override flags = {
    quiet: Flags.boolean({ char: 'q', summary: 'Display only image IDs' }),
    format: Flags.string({ summary: 'Output format: json, table (default), or a Go template over Repository, Tag, ID, Digest, CreatedSince, CreatedAt, Size' }),
    filter: Flags.string({ char: 'f', summary: 'Filter: dangling=true|false, reference=PATTERN', multiple: true }),
    'no-trunc': Flags.boolean({ summary: 'Do not truncate image IDs' }),
    noheading: Flags.boolean({ char: 'n', summary: 'Do not print column headings' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Images);
    const { Store, listImages, splitRepoTag, humanAge, humanSize, lookupCandidates } = await import('@pkit/storage');
    const store = Store.open({ root: flags.root });
    let images;
    try {
      images = await listImages(store);
    } finally {
      store.close();
    }
    if (args.image) {
      // As podman: a name without a tag lists every tag of that repository.
      const tagged = /:[^/]*$/.test(args.image) || args.image.includes('@');
      const wanted = lookupCandidates(args.image).map((n) => (tagged ? n : splitRepoTag(n)[0]));
      const key = (n: string) => (tagged ? n : splitRepoTag(n)[0]);
      images = images.filter((i) => i.names.some((n) => wanted.includes(key(n)) || n === args.image));
    }
    for (const f of flags.filter ?? []) {
      const [key, value = ''] = [f.slice(0, f.indexOf('=')), f.slice(f.indexOf('=') + 1)];
      if (key === 'dangling') images = images.filter((i) => (i.names.length === 0) === (value === 'true'));
      else if (key === 'reference') {
        // podman matches the pattern against the name, with and without its registry
        const re = new RegExp(`^${value.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '.')}$`);
        const hit = (n: string) => [n, splitRepoTag(n)[0]].some((x) => re.test(x) || re.test(x.replace(/^[^/]*\//, '')));
        images = images.map((i) => ({ ...i, names: i.names.filter(hit) })).filter((i) => i.names.length > 0);
      } else this.error(`invalid filter "${f}": use dangling=true|false or reference=PATTERN`, { exit: 125 });
    }
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
      for (const i of images) {
        for (const n of i.names.length ? i.names : ['<none>:<none>']) {
          const [repo, tag] = n === '<none>:<none>' ? ['<none>', '<none>'] : splitRepoTag(n);
          this.log(render({ Repository: repo, Tag: tag, ID: shortId(i.id), Id: i.id.slice(7), Digest: i.digest, CreatedSince: humanAge(new Date(i.created)), CreatedAt: i.created, Size: humanSize(i.size), Names: i.names }));
        }
      }
      return;
    }
    if (flags.quiet) {
      for (const id of new Set(images.map((i) => shortId(i.id)))) this.log(id);
      return;
    }
    const rows: string[][] = [];
    for (const i of images) {
      const names = i.names.length ? i.names : ['<none>:<none>'];
      for (const n of names) {
        const [repo, tag] = n === '<none>:<none>' ? ['<none>', '<none>'] : splitRepoTag(n);
        rows.push([repo, tag, shortId(i.id), humanAge(new Date(i.created)), humanSize(i.size)]);
      }
    }
    const header = ['REPOSITORY', 'TAG', 'IMAGE ID', 'CREATED', 'SIZE'];
    this.log(table(flags.noheading ? rows : [header, ...rows]));
  }
}

/** Left-aligned columns at least 12 wide with 2 spaces of padding, as podman's tabwriter output. */
function table(rows: string[][]): string {
  const widths = rows[0]?.map((_, c) => Math.max(...rows.map((r) => r[c]!.length))) ?? [];
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(Math.max(12, widths[c]! + 2)))).join('').trimEnd()).join('\n');
}
