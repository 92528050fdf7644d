import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Commit extends BaseCommand {
  static override summary = 'Make an image of a working container';
  static override description = 'The container\'s changes become one new layer on top of its image; prints the new image\'s ID.';
  static override examples = ['<%= config.bin %> commit busybox-working-container myimage'];
  static override args = {
    container: Args.string({ required: true, ignoreStdin: true, description: 'working container name or ID' }),
    image: Args.string({ required: false, ignoreStdin: true, description: 'name for the new image' }),
  };
  static override flags = {
    quiet: Flags.boolean({ char: 'q', summary: 'No progress on stderr: only the image ID' }),
    format: Flags.string({ char: 'f', summary: 'The image format: oci (default, also $BUILDAH_FORMAT) or docker', options: ['oci', 'docker'] }),
    rm: Flags.boolean({ summary: 'Remove the working container after committing it' }),
    iidfile: Flags.string({ summary: 'Write the image ID to this file' }),
    timestamp: Flags.integer({ summary: 'Created time and every file time of the new layer, in seconds since the epoch', min: 0 }),
    'disable-compression': Flags.boolean({ char: 'D', summary: 'Store the layer uncompressed (always done, as buildah; pushes compress)', allowNo: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Commit);
    const { openStore, findWorking, commit, removeWorking } = await import('../actions/working.ts');
    const { writeFileSync } = await import('node:fs');
    const store = openStore(flags.root);
    try {
      const rec = await findWorking(store, args.container);
      const image = await commit(store, rec, args.image, {
        format: (flags.format ?? process.env['BUILDAH_FORMAT'] ?? 'oci') as 'oci' | 'docker',
        ...(flags.timestamp !== undefined ? { timestamp: flags.timestamp } : {}),
      });
      if (!flags.quiet) {
        // buildah's progress on stderr (stdout keeps only the ID)
        const manifest = JSON.parse((await store.blobs.readBytes(image.manifestDigest, 4 << 20)).toString()) as { layers: Array<{ digest: string }> };
        const lines = ['Getting image source signatures', ...manifest.layers.map((l) => `Copying blob ${l.digest}`), `Copying config ${image.id}`, 'Writing manifest to image destination', 'Storing signatures'];
        process.stderr.write(`${lines.join('\n')}\n`);
      }
      if (flags.rm) await removeWorking(store, rec);
      if (flags.iidfile !== undefined) writeFileSync(flags.iidfile, image.id);
      this.log(image.id.slice('sha256:'.length));
    } finally {
      store.close();
    }
  }
}
