import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Stop extends BaseCommand {
  static override summary = 'Stop one or more running containers';
  static override description = 'Sends the stop signal (--stop-signal, the image\'s StopSignal, else SIGTERM), waits --time seconds, then sends SIGKILL. Prints each container as it was named.';
  static override examples = ['<%= config.bin %> stop web', '<%= config.bin %> stop -t 2 web', '<%= config.bin %> stop -a'];
  static override strict = false;
  static override args = { container: Args.string({ required: false, ignoreStdin: true, description: 'container name or ID' }) };
  static override flags = {
    time: Flags.integer({ char: 't', summary: 'Seconds to wait before killing the container (default: its --stop-timeout, else 10)', min: 0 }),
    all: Flags.boolean({ char: 'a', summary: 'Stop all running containers' }),
    ignore: Flags.boolean({ char: 'i', summary: 'Ignore errors when a container does not exist' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Stop);
    const queries = argv as string[];
    if (!flags.all && !queries.length) this.error('"prun stop" requires at least one CONTAINER, or --all (see --help)', { exit: 125 });
    const { eachContainer, reportFailures } = await import('../actions/each-container.ts');
    const { isRunning, stopContainer } = await import('../actions/containers.ts');
    let errors = await eachContainer({ root: flags.root, queries, all: flags.all, filter: isRunning }, async (e, rec, q) => {
      await stopContainer(e, rec, flags.time);
      return q;
    });
    if (flags.ignore) errors = errors.filter((m) => !/^no container with name or ID/.test(m));
    const last = reportFailures(errors);
    if (last !== undefined) this.error(last, { exit: 125 });
  }
}
