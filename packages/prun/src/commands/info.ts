import { Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Info extends BaseCommand {
  static override summary = 'Show the host, the store and the runtime prun uses';
  static override description = 'Store paths, id mappings, overlay mode, cgroup version, network backends found, runtime. YAML by default, as podman; --format json or a Go template.';
  static override examples = ['<%= config.bin %> info', '<%= config.bin %> info --format json', '<%= config.bin %> info --format "{{.Store.GraphRoot}}"'];
  static override flags = {
    format: Flags.string({ char: 'f', summary: 'json, or a Go template (default: YAML)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Info);
    // Loaded here, not at the top: only the command that runs pays for its code (docs/cli.md).
    const { info, toYaml } = await import('../actions/info.ts');
    const { helperPath } = await import('../actions/helper-path.ts');
    let helper: string | undefined;
    try {
      helper = helperPath();
    } catch {
      helper = undefined;
    }
    const data = await info(flags.root, helper);
    if (flags.format === undefined) {
      process.stdout.write(toYaml(data));
    } else if (flags.format === 'json') {
      this.log(JSON.stringify(data, null, 4));
    } else {
      const { compileTemplate } = await import('@pkit/cli-common/go-template');
      this.log(compileTemplate(flags.format)(data));
    }
  }
}
