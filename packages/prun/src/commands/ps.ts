import { Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Ps extends BaseCommand {
  static override summary = 'List containers';
  static override description = 'Without --all only running containers are listed (as podman).';
  static override examples = ['<%= config.bin %> ps -a', '<%= config.bin %> ps -aq', '<%= config.bin %> ps -a --format json'];
  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'Show all the containers, default is only running containers' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Print the numeric IDs of the containers only' }),
    format: Flags.string({ summary: 'Output format: json or table (default)' }),
    'no-trunc': Flags.boolean({ summary: 'Do not truncate IDs and commands' }),
    noheading: Flags.boolean({ summary: 'Do not print column headings' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Ps);
    if (flags.format && flags.format !== 'json' && flags.format !== 'table') this.error(`unknown --format "${flags.format}": use json or table`, { exit: 125 });
    const { readFile } = await import('node:fs/promises');
    const { join } = await import('node:path');
    const { Store, humanAge } = await import('@pkit/storage');
    const { engine, listContainers } = await import('../actions/containers.ts');
    const store = Store.open({ root: flags.root });
    let rows;
    try {
      const all = await listContainers(engine(store));
      const shown = flags.all ? all : all.filter((c) => c.state === 'running');
      rows = await Promise.all(
        shown.map(async (c) => {
          // The command as run: the bundle's process.args (image defaults applied).
          let command: string[] = [];
          try {
            const spec = JSON.parse(await readFile(join(store.containers.containerDir(c.id), 'config.json'), 'utf8'));
            if (Array.isArray(spec?.process?.args)) command = spec.process.args;
          } catch {
            // no bundle (yet): no command shown
          }
          const exitCode = typeof c.config?.['exitCode'] === 'number' ? (c.config['exitCode'] as number) : 0;
          return { c, command, exitCode };
        }),
      );
    } finally {
      store.close();
    }
    const id = (full: string) => (flags['no-trunc'] ? full : full.slice(0, 12));
    if (flags.format === 'json') {
      const out = rows.map(({ c, command, exitCode }) => ({
        Id: c.id,
        Names: [c.name],
        Image: c.imageName,
        ImageID: c.image.slice('sha256:'.length),
        Command: command,
        State: c.state,
        Status: status(c.state, exitCode),
        ExitCode: exitCode,
        Exited: c.state === 'exited' || c.state === 'stopped',
        Created: Math.floor(new Date(c.created).getTime() / 1000),
        CreatedAt: c.created,
      }));
      this.log(JSON.stringify(out, null, 4));
      return;
    }
    if (flags.quiet) {
      for (const r of rows) this.log(id(r.c.id));
      return;
    }
    const table = rows.map(({ c, command, exitCode }) => {
      const cmd = command.join(' ');
      const age = humanAge(new Date(c.created));
      const at = (k: 'startedAt' | 'finishedAt') => (typeof c.config?.[k] === 'string' ? humanAge(new Date(c.config[k] as string)) : age);
      const st = c.state === 'exited' || c.state === 'stopped' ? `Exited (${exitCode}) ${at('finishedAt')}` : c.state === 'running' ? `Up ${at('startedAt')}` : status(c.state, exitCode);
      return [id(c.id), c.imageName, flags['no-trunc'] || cmd.length <= 20 ? cmd : `${cmd.slice(0, 17)}...`, age, st, '', c.name];
    });
    const header = ['CONTAINER ID', 'IMAGE', 'COMMAND', 'CREATED', 'STATUS', 'PORTS', 'NAMES'];
    const text = format(flags.noheading ? table : [header, ...table]);
    if (text) this.log(text);
  }
}

function status(state: string, exitCode: number): string {
  if (state === 'running') return 'Up';
  if (state === 'created') return 'Created';
  if (state === 'paused') return 'Paused';
  return `Exited (${exitCode})`;
}

/** Left-aligned columns with 2 spaces of padding, as podman's tabwriter output. */
function format(rows: string[][]): string {
  if (!rows.length) return '';
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]! + 2))).join('').trimEnd()).join('\n');
}
