import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class VolumeInspect extends BaseCommand {
  static override summary = 'Display detailed information on one or more volumes';
  static override description = "A JSON array as podman's; volumes that do not exist are reported after it, and the command then fails.";
  static override examples = ['<%= config.bin %> volume inspect data', '<%= config.bin %> volume inspect --all'];
  static override strict = false;
  static override args = {
    name: Args.string({ required: false, ignoreStdin: true, description: 'volume name(s)' }),
  };
  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'Inspect all volumes' }),
    format: Flags.string({ char: 'f', summary: 'json (default) or a template such as "{{.Mountpoint}}"' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(VolumeInspect);
    const names = argv as string[];
    if (!flags.all && names.length === 0) this.error('"prun volume inspect" requires at least one NAME, or --all (see --help)', { exit: 125 });
    const { Store } = await import('@pkit/storage');
    const { inspectJson, renderTemplate } = await import('../../actions/volume-output.ts');
    const store = Store.open({ root: flags.root });
    const found = [];
    const missing: string[] = [];
    try {
      if (flags.all) found.push(...(await store.volumes.list()));
      for (const n of names) {
        const v = await store.volumes.get(n);
        if (v) found.push(v);
        else missing.push(n);
      }
    } finally {
      store.close();
    }
    const objects = found.map(inspectJson);
    if (flags.format !== undefined && flags.format !== 'json') {
      for (const o of objects) this.log(renderTemplate(flags.format, o));
    } else {
      // podman indents its inspect output by 5
      this.log(JSON.stringify(objects, null, 5));
    }
    for (const n of missing.slice(0, -1)) process.stderr.write(`Error: inspecting object: no such volume ${n}\n`);
    if (missing.length) this.error(`inspecting object: no such volume ${missing.at(-1)!}`, { exit: 125 });
  }
}
