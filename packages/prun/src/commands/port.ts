import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Port extends BaseCommand {
  static override summary = 'List the published ports of a container';
  static override description = 'One line per port: "80/tcp -> 0.0.0.0:8080". With PRIVATE_PORT[/PROTO], only the host address it is published on. Only running containers have published ports.';
  static override examples = ['<%= config.bin %> port web', '<%= config.bin %> port web 80', '<%= config.bin %> port web 53/udp', '<%= config.bin %> port -a'];
  static override args = {
    container: Args.string({ required: false, ignoreStdin: true, description: 'container name or ID' }),
    port: Args.string({ required: false, ignoreStdin: true, description: 'PRIVATE_PORT[/PROTO]' }),
  };
  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'List the ports of all running containers (each line starts with the container ID)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Port);
    const { portAction } = await import('../actions/port.ts');
    const lines = await portAction({
      root: flags.root,
      all: flags.all,
      ...(args.container !== undefined ? { container: args.container } : {}),
      ...(args.port !== undefined ? { port: args.port } : {}),
    });
    if (lines.length) process.stdout.write(`${lines.join('\n')}\n`);
  }
}
