import { Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Version extends BaseCommand {
  static override summary = 'Show the prun version';
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --format json', '<%= config.bin %> version --format "{{.Client.Version}}"'];
  static override flags = {
    format: Flags.string({ char: 'f', summary: 'json, or a Go template (default: podman\'s table)' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Version);
    const arch = process.arch === 'x64' ? 'amd64' : process.arch;
    const client = { Version: this.config.version, NodeVersion: process.version, OsArch: `linux/${arch}`, Os: 'linux' };
    if (flags.format === 'json') {
      this.log(JSON.stringify({ Client: client }, null, 4));
    } else if (flags.format !== undefined) {
      const { compileTemplate } = await import('@pkit/cli-common/go-template');
      this.log(compileTemplate(flags.format)({ Client: client }));
    } else {
      this.log(`Version:      ${client.Version}\nNode Version: ${client.NodeVersion}\nOS/Arch:      ${client.OsArch}`);
    }
  }
}
