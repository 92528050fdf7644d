import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class ImageInspect extends BaseCommand {
  static override summary = 'Display the details of one or more images as JSON';
  static override description = 'Prints a JSON array of the images found; each image not found is an error (exit 125) after the array, as podman.';
  static override examples = ['<%= config.bin %> image inspect busybox', '<%= config.bin %> image inspect app:1 0123abcd4567'];
  static override strict = false;
  static override args = {
    image: Args.string({ required: true, ignoreStdin: true, description: 'image name(s) or ID(s)' }),
  };
  static override flags = {
    format: Flags.string({ char: 'f', summary: 'Output format: json (default)' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(ImageInspect);
    if (flags.format && flags.format !== 'json') this.error(`unknown --format "${flags.format}": only json is supported`, { exit: 125 });
    const { Store, StoreError } = await import('@pkit/storage');
    const { inspectImage } = await import('../../actions/image-inspect.ts');
    const store = Store.open({ root: flags.root });
    const found = [];
    const errors: string[] = [];
    try {
      for (const q of argv as string[]) {
        try {
          found.push(await inspectImage(store, q));
        } catch (err) {
          if (!(err instanceof StoreError)) throw err;
          errors.push(err.message);
        }
      }
    } finally {
      store.close();
    }
    this.log(JSON.stringify(found, null, 4));
    for (const e of errors.slice(0, -1)) process.stderr.write(`Error: ${e}\n`);
    if (errors.length) this.error(errors.at(-1)!, { exit: 125 });
  }
}
