import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Rmi extends BaseCommand {
  static override summary = 'Remove one or more images from local storage';
  static override description =
    'As buildah: by name, only that name is removed while the image has others; the last name, or an ID, removes the image with its build\'s nameless intermediate images. ' +
    'Prints "untagged: NAME" for each name removed, then the full ID of each image removed. ' +
    '--force removes the working containers using the image first (a container of prun is left to prun rm).';
  static override examples = ['<%= config.bin %> rmi app:1', '<%= config.bin %> rmi -f 0123abcd4567', '<%= config.bin %> rmi --prune', '<%= config.bin %> rmi --all --force'];
  static override strict = false;
  static override args = {
    image: Args.string({ required: false, ignoreStdin: true, description: 'image name(s) or ID(s)' }),
  };
  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'Remove every image' }),
    force: Flags.boolean({ char: 'f', summary: 'Remove the working containers using the image too, and an image with several names by ID' }),
    prune: Flags.boolean({ char: 'p', summary: 'Remove dangling images (no name, no image built on them)' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Rmi);
    const { removeImages } = await import('../actions/rmi.ts');
    const { removals, errors } = await removeImages({ root: flags.root, images: argv as string[], all: flags.all, force: flags.force, prune: flags.prune });
    // as buildah: every name removed, then every image removed
    for (const r of removals) for (const n of r.untagged) this.log(`untagged: ${n}`);
    for (const r of removals) for (const id of r.deleted) this.log(id.slice('sha256:'.length));
    // Every failure is reported, the last one as the command's error.
    for (const e of errors.slice(0, -1)) process.stderr.write(`Error: ${e}\n`);
    if (errors.length) this.error(errors.at(-1)!, { exit: 125 });
  }
}
