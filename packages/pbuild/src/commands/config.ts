import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Config extends BaseCommand {
  static override summary = 'Change the image config of a working container';
  static override description =
    'What pbuild commit writes, and what pbuild run uses (env, working directory, user). KEY- removes an --env, --label or --annotation, P- a --port, V- a --volume. --entrypoint and --cmd take JSON (exec form) or text: an --entrypoint text runs through /bin/sh -c, a --cmd text is split into words (as buildah); "" removes them.';
  static override examples = [
    '<%= config.bin %> config --env PATH=/opt/bin:/usr/bin --workingdir /srv --user app $ctr',
    '<%= config.bin %> config --entrypoint \'["/srv/app"]\' --cmd \'--port 8080\' --port 8080 $ctr',
  ];
  static override args = { container: Args.string({ required: true, ignoreStdin: true, description: 'working container name or ID' }) };
  static override flags = {
    env: Flags.string({ char: 'e', multiple: true, multipleNonGreedy: true, summary: 'Set KEY=VALUE in the environment (KEY- removes it)' }),
    cmd: Flags.string({ summary: 'Default command (JSON array, or words)' }),
    entrypoint: Flags.string({ summary: 'Entrypoint (JSON array, or a shell command)' }),
    workingdir: Flags.string({ summary: 'Working directory' }),
    user: Flags.string({ char: 'u', summary: 'User (and group) to run as, USER[:GROUP]' }),
    label: Flags.string({ char: 'l', multiple: true, multipleNonGreedy: true, summary: 'Set a label KEY=VALUE (KEY- removes it)' }),
    port: Flags.string({ char: 'p', multiple: true, multipleNonGreedy: true, summary: 'Expose a port, PORT[/PROTO] (P- removes it)' }),
    volume: Flags.string({ char: 'v', multiple: true, multipleNonGreedy: true, summary: 'Declare a volume (V- removes it)' }),
    'stop-signal': Flags.string({ summary: 'Signal that stops the container' }),
    shell: Flags.string({ summary: 'Shell for RUN in shell form (JSON array; docker format only)' }),
    author: Flags.string({ summary: 'Image author' }),
    'created-by': Flags.string({ summary: 'Description of how the image was made (its history entry)' }),
    annotation: Flags.string({ char: 'a', multiple: true, multipleNonGreedy: true, summary: 'Set a manifest annotation KEY=VALUE (KEY- removes it)' }),
    onbuild: Flags.string({ multiple: true, multipleNonGreedy: true, summary: 'Add an ONBUILD trigger (docker format only)' }),
    healthcheck: Flags.string({ summary: 'Healthcheck: "CMD ...", "CMD-SHELL ..." or "NONE" (docker format only)' }),
    'healthcheck-interval': Flags.string({ summary: 'How often the healthcheck runs (default 30s)' }),
    'healthcheck-timeout': Flags.string({ summary: 'How long one check may take (default 30s)' }),
    'healthcheck-start-period': Flags.string({ summary: 'Grace period after start before failures count' }),
    'healthcheck-retries': Flags.integer({ summary: 'Failures in a row before unhealthy (default 3)', min: 0 }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Config);
    const { openStore, findWorking } = await import('../actions/working.ts');
    const { configFlagChanges, configure } = await import('../actions/config.ts');
    const changes = configFlagChanges(flags);
    const store = openStore(flags.root);
    try {
      const { warnings } = await configure(store, await findWorking(store, args.container), changes);
      for (const w of warnings) process.stderr.write(`WARN: ${w}\n`);
    } finally {
      store.close();
    }
  }
}
