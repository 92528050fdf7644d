import { Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Info extends BaseCommand {
  static override summary = 'Show the host and the store pbuild uses';
  static override description = 'buildah\'s JSON: a host section (cgroup version, distribution, memory, runtime, kernel, uptime...) and a store section (paths, driver, counts). --format takes a Go template over it.';
  static override examples = ['<%= config.bin %> info', '<%= config.bin %> info --format "{{.store.GraphRoot}}"'];
  static override flags = {
    debug: Flags.boolean({ char: 'D', summary: 'Add a debug section (versions)' }),
    format: Flags.string({ summary: 'A Go template over the JSON (e.g. {{.host.os}})' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Info);
    const { info } = await import('../actions/info.ts');
    const data = info(flags.root, { debug: flags.debug, version: this.config.version });
    if (flags.format === undefined) {
      this.log(JSON.stringify(data, null, 4));
      return;
    }
    const { compileTemplate } = await import('@pkit/cli-common/go-template');
    this.log(compileTemplate(flags.format)(data));
  }
}
