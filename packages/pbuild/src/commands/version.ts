import { Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Version extends BaseCommand {
  static override summary = 'Show the pbuild version';
  static override description = 'buildah\'s fields (Node\'s version where buildah has Go\'s); --json prints them as JSON.';
  static override examples = ['<%= config.bin %> version', '<%= config.bin %> version --json'];
  static override flags = {
    json: Flags.boolean({ summary: 'Output in JSON format' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Version);
    const { versionInfo, versionLines } = await import('../actions/version.ts');
    const v = versionInfo(this.config.version);
    this.log(flags.json ? JSON.stringify(v, null, 4) : versionLines(v).join('\n'));
  }
}
