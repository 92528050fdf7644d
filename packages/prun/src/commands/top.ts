import { Args } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';
import { flagShapes, splitAtImage } from './run-flags.ts';

export default class Top extends BaseCommand {
  static override summary = 'Display the running processes of a container';
  static override description =
    'Columns by default: USER PID PPID %CPU ELAPSED TTY TIME COMMAND. Descriptors (as podman\'s): args, capamb, capbnd, capeff, capinh, capprm, comm, etime, group, groups, hgroup, hgroups, hpid, huid, huser, label, nice, pcpu, pgid, pid, ppid, rgroup, rss, ruser, seccomp, state, stime, time, tty, uid, user, vsz, or AIX codes such as %p %U %C %a. Anything else (e.g. -eo pid,comm) runs ps(1) inside the container.';
  static override examples = ['<%= config.bin %> top web', '<%= config.bin %> top web pid user args', '<%= config.bin %> top web hpid huser comm', '<%= config.bin %> top web -eo pid,comm'];
  static override strict = false;
  static override args = {
    container: Args.string({ required: true, ignoreStdin: true, description: 'container name or ID' }),
    descriptors: Args.string({ required: false, ignoreStdin: true, description: 'format descriptors' }),
  };

  async run(): Promise<void> {
    const { valueFlags, shortBooleans } = flagShapes({ root: { type: 'option' } });
    const { own, image: container, command: descriptors } = splitAtImage(this.argv, valueFlags, shortBooleans);
    const { flags } = await this.parse(Top, [...own, ...(container !== undefined ? [container] : [])]);
    if (container === undefined) this.error('"prun top" requires a CONTAINER (see --help)', { exit: 125 });
    const { topAction } = await import('../actions/top.ts');
    const out = await topAction({ root: flags.root, container, descriptors });
    if ('rows' in out) {
      const { formatTable } = await import('../actions/table.ts');
      process.stdout.write(`${formatTable(out.rows)}\n`);
      return;
    }
    const { execAction } = await import('../actions/exec.ts');
    const code = await execAction({ root: flags.root, container, command: ['ps', ...out.ps], interactive: false, tty: false, detach: false, env: [], envFiles: [] });
    if (code !== 0) this.exit(code);
  }
}
