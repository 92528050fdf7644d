import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Logs extends BaseCommand {
  static override summary = 'Print the output of a container';
  static override description = 'The container\'s stdout goes to stdout and its stderr to stderr. Kept for containers run with -d, and for foreground runs without --rm and -t.';
  static override examples = ['<%= config.bin %> logs web', '<%= config.bin %> logs -f --tail 10 web', '<%= config.bin %> logs --since 5m -t web'];
  static override args = { container: Args.string({ required: true, ignoreStdin: true, description: 'container name or ID' }) };
  static override flags = {
    follow: Flags.boolean({ char: 'f', summary: 'Keep printing new output until the container stops' }),
    tail: Flags.integer({ char: 'n', summary: 'Print only the last N lines (-1: all)', default: -1 }),
    since: Flags.string({ summary: 'Only output since a time: RFC 3339 time, Unix seconds, or a duration such as 10m' }),
    until: Flags.string({ summary: 'Only output before a time (same forms as --since)' }),
    timestamps: Flags.boolean({ char: 't', summary: 'Prefix each line with its time' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Logs);
    const { logsAction } = await import('../actions/logs.ts');
    await logsAction({
      root: flags.root,
      container: args.container,
      follow: flags.follow,
      tail: flags.tail,
      timestamps: flags.timestamps,
      ...(flags.since !== undefined ? { since: flags.since } : {}),
      ...(flags.until !== undefined ? { until: flags.until } : {}),
    });
  }
}
