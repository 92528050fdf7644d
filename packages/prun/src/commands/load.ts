import { Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Load extends BaseCommand {
  static override summary = 'Load images from an archive (docker-archive or oci-archive)';
  static override description = 'Reads stdin when -i is not given. Prints "Loaded image: NAME" for each name loaded (sha256:ID for an image without one).';
  static override examples = ['<%= config.bin %> load -i busybox.tar', 'prun save app | <%= config.bin %> --root /other/store load'];
  static override flags = {
    input: Flags.string({ char: 'i', summary: 'Read from this archive file instead of stdin' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Suppress the progress output' }),
  };

  async run(): Promise<void> {
    const { flags } = await this.parse(Load);
    const { loadImages } = await import('../actions/load.ts');
    const loaded = await loadImages({ root: flags.root, input: flags.input, quiet: flags.quiet });
    for (const name of loaded) this.log(`Loaded image: ${name}`);
  }
}
