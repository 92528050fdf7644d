import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';
import { flagShapes, splitAtImage } from '@pkit/cli-common/split-argv';

export default class Run extends BaseCommand {
  static override summary = 'Run a command in a working container';
  static override description = 'Options go before the container; everything after it (and an optional --) is the command. Exits with its code.';
  static override examples = [
    '<%= config.bin %> run busybox-working-container -- sh -c "echo hi > /greeting"',
    '<%= config.bin %> run --mount type=cache,target=/root/.cache C -- make',
    '<%= config.bin %> run --secret id=token,src=token.txt --mount type=secret,id=token C -- cat /run/secrets/token',
  ];
  static override strict = false;
  static override args = {
    container: Args.string({ required: true, ignoreStdin: true, description: 'working container name or ID' }),
    command: Args.string({ required: false, ignoreStdin: true, description: 'command and arguments' }),
  };
  static override flags = {
    mount: Flags.string({ summary: 'Mount for this command: type=bind|cache|tmpfs|secret,target=PATH[,...] (a Containerfile RUN --mount)', multiple: true }),
    network: Flags.string({ summary: 'Network for this command: default (the container\'s), none or host', aliases: ['net'] }),
    contextdir: Flags.string({ summary: 'Bind mount sources are in this directory and may not leave it (default: host paths)' }),
    secret: Flags.string({ summary: 'A secret for type=secret mounts: id=ID,src=FILE or id=ID,env=VAR', multiple: true }),
    env: Flags.string({ char: 'e', summary: 'Set KEY=VALUE for this command (KEY alone: our value)', multiple: true }),
    user: Flags.string({ summary: 'Run as USER[:GROUP] (names from the container\'s /etc/passwd) instead of the image config\'s' }),
    workingdir: Flags.string({ summary: 'Run in this directory instead of the image config\'s' }),
    volume: Flags.string({ char: 'v', summary: 'Bind a host directory: HOST:CONTAINER[:ro]', multiple: true }),
  };

  async run(): Promise<void> {
    // Only the flags before the container are pbuild's: the command's own flags are its own.
    const { valueFlags, shortBooleans } = flagShapes({ ...Run.flags, root: { type: 'option' } } as never);
    const { own, image: container, command: rest } = splitAtImage(this.argv, valueFlags, shortBooleans);
    if (container === undefined) this.error('"pbuild run" requires a CONTAINER and a COMMAND (see --help)', { exit: 125 });
    const command = rest[0] === '--' ? rest.slice(1) : rest;
    const { flags } = await this.parse(Run, [container, ...own]);
    const { runCommand } = await import('../actions/run-command.ts');
    const code = await runCommand({
      root: flags.root,
      container,
      command,
      mounts: flags.mount ?? [],
      secrets: flags.secret ?? [],
      ...(flags.network !== undefined ? { network: flags.network } : {}),
      ...(flags.contextdir !== undefined ? { contextDir: flags.contextdir } : {}),
      env: flags.env ?? [],
      volumes: flags.volume ?? [],
      ...(flags.user !== undefined ? { user: flags.user } : {}),
      ...(flags.workingdir !== undefined ? { workingDir: flags.workingdir } : {}),
    });
    if (code !== 0) this.exit(code);
  }
}
