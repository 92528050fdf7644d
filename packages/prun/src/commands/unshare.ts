import { Args } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';
import { flagShapes, splitAtImage } from './run-flags.ts';

export default class Unshare extends BaseCommand {
  static override summary = 'Run a command in a new user namespace with your container id mapping';
  static override description =
    'COMMAND (default $SHELL, else /bin/sh) runs as root of a user namespace mapped as rootless containers are (your uid is 0, your subordinate ids follow), in a mount namespace of its own; use it to look at or fix files that belong to container users. Options go before COMMAND. Exits with the command\'s code (126/127 when it cannot be run).';
  static override examples = ['<%= config.bin %> unshare cat /proc/self/uid_map', '<%= config.bin %> unshare ls -ln ~/.local/share/pkit/volumes', '<%= config.bin %> unshare'];
  static override strict = false;
  static override args = {
    command: Args.string({ required: false, ignoreStdin: true, description: 'command and arguments' }),
  };

  async run(): Promise<void> {
    const { valueFlags, shortBooleans } = flagShapes({ root: { type: 'option' } });
    const { own, image: first, command } = splitAtImage(this.argv, valueFlags, shortBooleans);
    await this.parse(Unshare, own);
    const { unshareAction } = await import('../actions/unshare.ts');
    const code = await unshareAction(first === undefined ? [] : [first, ...command]);
    if (code !== 0) this.exit(code);
  }
}
