import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class From extends BaseCommand {
  static override summary = 'Create a working container from an image (pulled when missing), or from scratch';
  static override description = 'Prints the working container\'s name (IMAGE-working-container, as buildah), for pbuild run, copy, config and commit.';
  static override examples = ['<%= config.bin %> from busybox', 'ctr=$(<%= config.bin %> from busybox); <%= config.bin %> run $ctr -- touch /x; <%= config.bin %> commit $ctr mine'];
  static override args = { image: Args.string({ required: true, ignoreStdin: true, description: 'image name or ID' }) };
  static override flags = {
    name: Flags.string({ summary: 'Name of the working container' }),
    pull: Flags.string({ summary: 'Pull the image: always, missing (default), never', options: ['always', 'missing', 'never', 'true', 'false'] }),
    'tls-verify': Flags.boolean({ summary: 'Verify TLS when pulling (default true)', allowNo: true }),
    creds: Flags.string({ summary: 'Credentials for pulling: USER[:PASSWORD]' }),
    authfile: Flags.string({ summary: 'The auth file for pulling' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Print no pull progress' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(From);
    const { openStore, fromImage } = await import('../actions/working.ts');
    if (args.image !== 'scratch') {
      const { pullBaseImages } = await import('../actions/base-image.ts');
      await pullBaseImages([{ ref: args.image }], {
        root: flags.root,
        quiet: flags.quiet,
        ...(flags.pull !== undefined ? { pull: flags.pull } : {}),
        ...(flags['tls-verify'] !== undefined ? { tlsVerify: flags['tls-verify'] } : {}),
        ...(flags.creds !== undefined ? { creds: flags.creds } : {}),
        ...(flags.authfile !== undefined ? { authfile: flags.authfile } : {}),
      });
    }
    const store = openStore(flags.root);
    try {
      this.log(await fromImage(store, args.image, flags.name, { annotateBase: true }));
    } finally {
      store.close();
    }
  }
}
