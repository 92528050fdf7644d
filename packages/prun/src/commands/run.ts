import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Run extends BaseCommand {
  static override summary = 'Run a command in a new container';
  static override description =
    'Options go before IMAGE; everything after IMAGE is the command and its arguments (as podman). Exits with the command\'s code: 125 when prun fails, 126 when the command cannot be executed, 127 when it is not found.';
  static override examples = [
    '<%= config.bin %> run --rm busybox echo hi',
    '<%= config.bin %> run --rm -e A=1 -w /tmp busybox sh -c \'echo $A; pwd\'',
    'tar c . | <%= config.bin %> run --rm -i busybox tar x -C /tmp',
  ];
  // The command after IMAGE is taken as it is: flags there are the command's (see run()).
  static override strict = false;
  // ignoreStdin: oclif reads stdin for a missing arg otherwise, and stdin is the container's.
  static override args = {
    image: Args.string({ required: true, ignoreStdin: true, description: 'image name or ID' }),
    command: Args.string({ required: false, ignoreStdin: true, description: 'command and arguments (default: the image\'s)' }),
  };
  static override flags = {
    rm: Flags.boolean({ summary: 'Remove the container when it exits' }),
    interactive: Flags.boolean({ char: 'i', summary: 'Keep stdin open (else the container reads /dev/null)' }),
    name: Flags.string({ summary: 'Name of the container (unique)' }),
    env: Flags.string({ char: 'e', summary: 'Set an environment variable (KEY=VALUE, or KEY to take it from here)', multiple: true }),
    workdir: Flags.string({ char: 'w', summary: 'Working directory inside the container' }),
    entrypoint: Flags.string({ summary: 'Override the image\'s entrypoint (a command, or a JSON array)' }),
    hostname: Flags.string({ char: 'h', summary: 'Container host name' }),
    network: Flags.string({ summary: 'Network mode: none (default) or host', options: ['none', 'host'] }),
  };

  async run(): Promise<void> {
    // Split at IMAGE: oclif would otherwise read the command's own options (`sh -c ...`).
    const valueFlags = new Set(['--root', '--name', '--env', '-e', '--workdir', '-w', '--entrypoint', '--hostname', '-h', '--network']);
    let i = 0;
    while (i < this.argv.length) {
      const a = this.argv[i]!;
      if (a === '--') break;
      if (!a.startsWith('-') || a === '-') break;
      i += valueFlags.has(a) ? 2 : 1;
    }
    const own = this.argv.slice(0, i);
    let rest = this.argv.slice(i);
    if (rest[0] === '--') rest = rest.slice(1);
    const { flags } = await this.parse(Run, [...own, ...(rest.length ? [rest[0]!] : [])]);
    const image = rest[0];
    if (image === undefined) this.error('"prun run" requires an IMAGE (see --help)', { exit: 125 });
    const { runAction } = await import('../actions/run.ts');
    const code = await runAction({
      root: flags.root,
      image,
      command: rest.slice(1),
      rm: flags.rm,
      interactive: flags.interactive,
      env: flags.env ?? [],
      ...(flags.name !== undefined ? { name: flags.name } : {}),
      ...(flags.workdir !== undefined ? { workdir: flags.workdir } : {}),
      ...(flags.entrypoint !== undefined ? { entrypoint: flags.entrypoint } : {}),
      ...(flags.hostname !== undefined ? { hostname: flags.hostname } : {}),
      ...(flags.network !== undefined ? { network: flags.network } : {}),
    });
    if (code !== 0) this.exit(code);
  }
}
