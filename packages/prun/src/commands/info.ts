import { BaseCommand } from '@pkit/cli-common';

export default class Info extends BaseCommand {
  static override summary = 'Show the store paths as JSON';
  static override examples = ['<%= config.bin %> <%= command.id %>', '<%= config.bin %> <%= command.id %> --root /tmp/store'];

  async run(): Promise<void> {
    const { flags } = await this.parse(Info);
    // Loaded here, not at the top: only the command that runs pays for its code (docs/cli.md).
    const { info } = await import('../actions/info.ts');
    this.log(JSON.stringify(info(flags.root), null, 2));
  }
}
