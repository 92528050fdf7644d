import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Kill extends BaseCommand {
  static override summary = 'Send a signal to one or more running containers';
  static override examples = ['<%= config.bin %> kill web', '<%= config.bin %> kill -s HUP web', '<%= config.bin %> kill -a'];
  static override strict = false;
  static override args = { container: Args.string({ required: false, ignoreStdin: true, description: 'container name or ID' }) };
  static override flags = {
    signal: Flags.string({ char: 's', summary: 'Signal to send: a name (KILL, SIGKILL) or number (default KILL)', default: 'KILL' }),
    all: Flags.boolean({ char: 'a', summary: 'Signal all running containers' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Kill);
    const queries = argv as string[];
    if (!flags.all && !queries.length) this.error('"prun kill" requires at least one CONTAINER, or --all (see --help)', { exit: 125 });
    const { signalNumber } = await import('../actions/signals.ts');
    const sig = signalNumber(flags.signal); // a bad signal fails before any container is touched
    const { eachContainer, reportFailures } = await import('../actions/each-container.ts');
    const { isRunning, signalContainer } = await import('../actions/containers.ts');
    const errors = await eachContainer({ root: flags.root, queries, all: flags.all, filter: isRunning }, async (e, rec, q) => {
      await signalContainer(e, rec, String(sig));
      return q;
    });
    const last = reportFailures(errors);
    if (last !== undefined) this.error(last, { exit: 125 });
  }
}
