import { Args } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Run extends BaseCommand {
  static override summary = 'Run a command in a working container';
  static override description = 'Everything after the container (and an optional --) is the command. Exits with its code.';
  static override examples = ['<%= config.bin %> run busybox-working-container -- sh -c "echo hi > /greeting"'];
  static override strict = false;
  static override args = {
    container: Args.string({ required: true, ignoreStdin: true, description: 'working container name or ID' }),
    command: Args.string({ required: false, ignoreStdin: true, description: 'command and arguments' }),
  };

  async run(): Promise<void> {
    // The command's own flags are not pbuild's: only --root may come before the container.
    let argv = [...this.argv];
    let root: string | undefined = process.env.PKIT_ROOT;
    if (argv[0] === '--root') {
      root = argv[1];
      argv = argv.slice(2);
    }
    const [container, ...rest] = argv;
    if (container === undefined || container.startsWith('-')) this.error('"pbuild run" requires a CONTAINER and a COMMAND (see --help)', { exit: 125 });
    const command = rest[0] === '--' ? rest.slice(1) : rest;
    const { openStore, findWorking, runIn } = await import('../actions/working.ts');
    const store = openStore(root);
    let code: number;
    try {
      code = await runIn(store, await findWorking(store, container), command);
    } finally {
      store.close();
    }
    if (code !== 0) this.exit(code);
  }
}
