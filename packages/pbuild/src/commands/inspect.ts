import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Inspect extends BaseCommand {
  static override summary = 'Show a working container as JSON';
  static override description = 'buildah\'s inspect of a working container: its image, and the image config it will commit (OCIv1).';
  static override examples = ['<%= config.bin %> inspect busybox-working-container'];
  static override args = { container: Args.string({ required: true, ignoreStdin: true, description: 'working container name or ID' }) };
  static override flags = { type: Flags.string({ char: 't', options: ['container'], default: 'container', summary: 'What to inspect (container)' }) };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Inspect);
    const { openStore, findWorking } = await import('../actions/working.ts');
    const { inspectWorking } = await import('../actions/config.ts');
    const store = openStore(flags.root);
    try {
      this.log(JSON.stringify(await inspectWorking(store, await findWorking(store, args.container)), null, 4));
    } finally {
      store.close();
    }
  }
}
