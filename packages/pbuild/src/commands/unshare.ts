import { Args } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Unshare extends BaseCommand {
  static override summary = 'Run a command in a new user namespace with your container id mapping';
  static override description =
    'COMMAND (default $SHELL, else /bin/sh) runs as root of a user namespace mapped as rootless containers are (your uid is 0, your subordinate ids follow), in a mount namespace of its own: ' +
    'the place for "pbuild mount", whose mounts end with the session. PKIT_ROOT and PKIT_RUNROOT are set to your store, so pbuild inside uses it. ' +
    'Options go before COMMAND. Exits with the command\'s code (126/127 when it cannot be run).';
  static override examples = ['<%= config.bin %> unshare', '<%= config.bin %> unshare sh -c \'ls "$(<%= config.bin %> mount busybox-working-container)"\'', '<%= config.bin %> unshare cat /proc/self/uid_map'];
  static override strict = false;
  static override args = {
    command: Args.string({ required: false, ignoreStdin: true, description: 'command and arguments' }),
  };

  async run(): Promise<void> {
    const { flagShapes, splitAtImage } = await import('@pkit/cli-common/split-argv');
    const { valueFlags, shortBooleans } = flagShapes({ root: { type: 'option' } });
    const { own, image: first, command } = splitAtImage(this.argv, valueFlags, shortBooleans);
    const { flags } = await this.parse(Unshare, own);
    const { pbuildUnshare } = await import('../actions/unshare.ts');
    const code = await pbuildUnshare(flags.root, first === undefined ? [] : [first, ...command]);
    if (code !== 0) this.exit(code);
  }
}
