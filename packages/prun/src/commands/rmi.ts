import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Rmi extends BaseCommand {
  static override summary = 'Remove one or more images from local storage';
  static override description =
    'By name, only that name is removed while the image has others (as podman); the last name, or an ID, removes the image. Prints "Untagged: NAME" and "Deleted: ID" lines on stdout.';
  static override examples = ['<%= config.bin %> rmi busybox:demo', '<%= config.bin %> rmi -f 0123abcd4567'];
  static override strict = false;
  static override args = {
    image: Args.string({ required: true, ignoreStdin: true, description: 'image name(s) or ID(s)' }),
  };
  static override flags = {
    force: Flags.boolean({ char: 'f', summary: 'Remove the containers using the image too, and an image with several names by ID' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Rmi);
    const { StoreError } = await import('@pkit/storage/errors');
    const { removeImageQuery } = await import('@pkit/cli-common/image-remove');
    const { deleteContainer } = await import('./rm.ts');
    const { openStoreForLayers } = await import('../actions/store.ts');
    const store = openStoreForLayers(flags.root);
    const errors: string[] = [];
    try {
      for (const query of argv as string[]) {
        try {
          const removed = await removeImageQuery(store, query, {
            force: flags.force,
            removeContainer: (c) => deleteContainer(store, c.id),
            inUseFix: () => 'remove the container first (prun rm) or use prun rmi -f',
          });
          for (const n of removed.untagged) this.log(`Untagged: ${n}`);
          for (const id of removed.deleted) this.log(`Deleted: ${id.slice('sha256:'.length)}`);
        } catch (err) {
          if (!(err instanceof StoreError)) throw err;
          errors.push(err.message);
        }
      }
    } finally {
      store.close();
    }
    // As podman: every failure is reported, the last one as the command's error.
    for (const e of errors.slice(0, -1)) process.stderr.write(`Error: ${e}\n`);
    if (errors.length) this.error(errors.at(-1)!, { exit: 125 });
  }
}
