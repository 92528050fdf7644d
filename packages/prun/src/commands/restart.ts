import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Restart extends BaseCommand {
  static override summary = 'Restart one or more containers';
  static override description = 'Stops a running container as "prun stop" does, then starts it in the background; its filesystem is kept.';
  static override examples = ['<%= config.bin %> restart web', '<%= config.bin %> restart -t 0 web'];
  static override strict = false;
  static override args = { container: Args.string({ required: false, ignoreStdin: true, description: 'container name or ID' }) };
  static override flags = {
    time: Flags.integer({ char: 't', summary: 'Seconds to wait for the stop signal before killing (default 10)', min: 0 }),
    all: Flags.boolean({ char: 'a', summary: 'Restart all containers' }),
    running: Flags.boolean({ summary: 'With --all: only the running containers' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Restart);
    const queries = argv as string[];
    if (!flags.all && !queries.length) this.error('"prun restart" requires at least one CONTAINER, or --all (see --help)', { exit: 125 });
    const { eachContainer, reportFailures } = await import('../actions/each-container.ts');
    const { isRunning, startInBackground, stopContainer } = await import('../actions/containers.ts');
    const { StoreError } = await import('@pkit/storage');
    const errors = await eachContainer({ root: flags.root, queries, all: flags.all, ...(flags.running ? { filter: isRunning } : {}) }, async (e, rec, q) => {
      const stopped = await stopContainer(e, rec, flags.time);
      if (!stopped) throw new StoreError(`container ${rec.name} was removed when it stopped (--rm)`, 'PKIT_STATE');
      await startInBackground(e, stopped);
      return q;
    });
    const last = reportFailures(errors);
    if (last !== undefined) this.error(last, { exit: 125 });
  }
}
