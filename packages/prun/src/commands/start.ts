import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Start extends BaseCommand {
  static override summary = 'Start one or more containers';
  static override description = 'Without --attach the containers run in the background and each is printed as it was named; with --attach one container runs in the foreground and prun exits with its code.';
  static override examples = ['<%= config.bin %> start web', '<%= config.bin %> start -a job'];
  static override strict = false;
  static override args = { container: Args.string({ required: true, ignoreStdin: true, description: 'container name or ID' }) };
  static override flags = {
    attach: Flags.boolean({ char: 'a', summary: 'Attach stdout and stderr, and exit with the container\'s code' }),
    interactive: Flags.boolean({ char: 'i', summary: 'With --attach: pass stdin to the container' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Start);
    const queries = argv as string[];
    const { eachContainer, reportFailures } = await import('../actions/each-container.ts');
    const { isRunning, meta, startInBackground } = await import('../actions/containers.ts');
    if (flags.attach) {
      if (queries.length > 1) this.error('you cannot start and attach multiple containers at once', { exit: 125 });
      const { runInForeground } = await import('../actions/run.ts');
      let code = 0;
      const errors = await eachContainer({ root: flags.root, queries }, async (e, rec) => {
        if (isRunning(rec)) throw new (await import('@pkit/storage')).StoreError(`container ${rec.name} is running already: use "prun logs -f" or "prun exec"`, 'PKIT_STATE');
        const m = meta(rec);
        code = await runInForeground(e, rec, { keepLog: !m.tty, tty: m.tty === true, interactive: flags.interactive || m.interactive === true });
        return undefined;
      });
      const last = reportFailures(errors);
      if (last !== undefined) this.error(last, { exit: 125 });
      if (code !== 0) this.exit(code);
      return;
    }
    const errors = await eachContainer({ root: flags.root, queries }, async (e, rec, q) => {
      await startInBackground(e, rec);
      return q;
    });
    const last = reportFailures(errors);
    if (last !== undefined) this.error(last, { exit: 125 });
  }
}
