import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Import extends BaseCommand {
  static override summary = 'Import a root-filesystem tarball (plain, gzip or zstd) as a one-layer image';
  static override description = 'Prints the new image ID on stdout. Use "-" to read the tarball from stdin.';
  static override examples = ['<%= config.bin %> import rootfs.tar busybox:latest', 'tar -C dir -c . | <%= config.bin %> import - myimage'];
  static override args = {
    path: Args.string({ required: true, ignoreStdin: true, description: 'tarball path, or - for stdin' }),
    reference: Args.string({ required: false, ignoreStdin: true, description: 'name to tag the image with (short names go to localhost/)' }),
  };
  static override flags = {
    quiet: Flags.boolean({ char: 'q', summary: 'Suppress progress output' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Import);
    const { createReadStream } = await import('node:fs');
    const { stat } = await import('node:fs/promises');
    const { StoreError, importRootfs } = await import('@pkit/storage');
    if (args.path !== '-' && (await stat(args.path)).isDirectory()) {
      throw new StoreError(`${args.path} is a directory: import takes a tarball (tar -C DIR -c . | prun import - NAME)`, 'PKIT_BAD_INPUT');
    }
    const input = args.path === '-' ? process.stdin : createReadStream(args.path);
    const { openStoreForLayers } = await import('../actions/store.ts');
    const store = openStoreForLayers(flags.root);
    try {
      const { image } = await importRootfs(store, input, args.reference ? { name: args.reference } : {});
      if (!flags.quiet) process.stderr.write('Writing manifest to image destination\n');
      this.log(image.id.slice('sha256:'.length));
    } catch (err) {
      // Name the input: "not a valid layer tar archive" alone does not say which file.
      if (err instanceof StoreError && err.code === 'PKIT_LAYER_FORMAT') throw new StoreError(`${args.path === '-' ? 'stdin' : args.path}: ${err.message}`, err.code);
      throw err;
    } finally {
      store.close();
    }
  }
}
