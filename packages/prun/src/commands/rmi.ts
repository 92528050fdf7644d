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
    const { StoreError, findImage, lookupCandidates, removeImage } = await import('@pkit/storage');
    const { deleteContainer } = await import('./rm.ts');
    const { openStoreForLayers } = await import('../actions/store.ts');
    const store = openStoreForLayers(flags.root);
    const errors: string[] = [];
    try {
      for (const query of argv as string[]) {
        try {
          const image = await findImage(store, query);
          const names = (await store.images.names()).filter((n) => n.id === image.id).map((n) => n.name).sort();
          const hex = image.id.slice('sha256:'.length);
          const bare = query.startsWith('sha256:') ? query.slice(7) : query;
          const byId = (/^[a-f0-9]{3,64}$/.test(bare) && hex.startsWith(bare)) || query === image.manifestDigest;
          if (!byId && names.length > 1) {
            // The name the query resolved to: an exact candidate, else the one short-name match.
            const candidates = lookupCandidates(query);
            const suffix = candidates[0] ? `/${candidates[0].slice('localhost/'.length)}` : undefined;
            const name = names.find((n) => candidates.includes(n)) ?? names.find((n) => suffix !== undefined && n.endsWith(suffix));
            if (name !== undefined) {
              await store.images.untag(name);
              this.log(`Untagged: ${name}`);
              continue;
            }
          }
          if (byId && names.length > 1 && !flags.force) {
            throw new StoreError(`unable to delete image "${hex}" by ID with more than one tag ([${names.join(' ')}]): please force removal`, 'PKIT_IMAGE_IN_USE');
          }
          const users = (await store.containers.list()).filter((c) => c.image === image.id);
          if (users.length && !flags.force) {
            throw new StoreError(`image used by ${users[0]!.id}: image is in use by a container: remove the container first (prun rm) or use prun rmi -f`, 'PKIT_IMAGE_IN_USE');
          }
          for (const c of users) await deleteContainer(store, c.id);
          const removed = await removeImage(store, image.id);
          for (const n of removed.untagged.sort()) this.log(`Untagged: ${n}`);
          this.log(`Deleted: ${hex}`);
          for (const p of removed.parents) this.log(`Deleted: ${p.slice('sha256:'.length)}`);
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
