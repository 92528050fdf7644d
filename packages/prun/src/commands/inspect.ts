import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Inspect extends BaseCommand {
  static override summary = 'Show containers and images as JSON';
  static override description = 'Each NAME is looked up as a container first, then as an image (podman\'s order), unless --type says which. --format takes a Go template such as {{.State.Status}}.';
  static override examples = ['<%= config.bin %> inspect web', '<%= config.bin %> inspect --format "{{.State.Status}}" web', '<%= config.bin %> inspect --type image busybox'];
  static override strict = false;
  static override args = { name: Args.string({ required: true, ignoreStdin: true, description: 'container or image name or ID' }) };
  static override flags = {
    type: Flags.string({ char: 't', summary: 'What to look for: container, image or all (default)', options: ['container', 'image', 'all'], default: 'all' }),
    format: Flags.string({ char: 'f', summary: 'json (default), or a Go template applied to each object' }),
    size: Flags.boolean({ char: 's', summary: 'Accepted for compatibility' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Inspect);
    const { inspectAction } = await import('../actions/inspect.ts');
    const code = await inspectAction({ root: flags.root, names: argv as string[], type: flags.type as 'container' | 'image' | 'all', ...(flags.format !== undefined ? { format: flags.format } : {}) });
    if (code !== 0) this.exit(code);
  }
}
