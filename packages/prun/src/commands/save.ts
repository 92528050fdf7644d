import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Save extends BaseCommand {
  static override summary = 'Save an image to an archive or directory';
  static override description =
    'Writes to stdout when -o is not given and stdout is not a terminal. The archive records the name the image was given by (none when given by ID).';
  static override examples = [
    '<%= config.bin %> save -o busybox.tar busybox',
    '<%= config.bin %> save --format oci-archive -o app.tar app:1',
    '<%= config.bin %> save app | ssh host prun load',
  ];
  static override strict = false;
  static override args = {
    image: Args.string({ required: true, ignoreStdin: true, description: 'image name or ID' }),
  };
  static override flags = {
    output: Flags.string({ char: 'o', summary: 'Write to a file (or directory for the dir formats), default stdout' }),
    format: Flags.string({ summary: 'Save format', options: ['docker-archive', 'oci-archive', 'oci-dir', 'docker-dir'], default: 'docker-archive' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Suppress the output' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Save);
    const { saveImage } = await import('../actions/save.ts');
    await saveImage({
      root: flags.root,
      images: argv as string[],
      output: flags.output,
      format: flags.format as 'docker-archive' | 'oci-archive' | 'oci-dir' | 'docker-dir',
      quiet: flags.quiet,
    });
  }
}
