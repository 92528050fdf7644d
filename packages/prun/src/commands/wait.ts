import { Args } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Wait extends BaseCommand {
  static override summary = 'Wait for one or more containers to stop, and print their exit codes';
  static override examples = ['<%= config.bin %> wait job'];
  static override strict = false;
  static override args = { container: Args.string({ required: true, ignoreStdin: true, description: 'container name or ID' }) };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Wait);
    const { eachContainer, reportFailures } = await import('../actions/each-container.ts');
    const { meta, waitStopped } = await import('../actions/containers.ts');
    const errors = await eachContainer({ root: flags.root, queries: argv as string[] }, async (e, rec) => {
      const done = await waitStopped(e, rec);
      // A --rm container is gone once it stopped: its code is the last one recorded.
      const code = done && done !== 'timeout' ? meta(done).exitCode : meta(rec).exitCode;
      return String(code ?? 0);
    });
    const last = reportFailures(errors);
    if (last !== undefined) this.error(last, { exit: 125 });
  }
}
