import { Args } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';
import { authfile, creds, retryTimes, tlsVerify } from '../flags.ts';

export default class Delete extends BaseCommand {
  static override summary = 'Delete an image from a registry';
  static override description = 'The tag is resolved to its manifest, and the manifest is deleted: every tag pointing at it goes too, as with skopeo delete.';
  static override examples = ['<%= config.bin %> delete docker://registry.example/app:1'];
  static override args = {
    image: Args.string({ required: true, ignoreStdin: true, description: 'docker://[registry/]repository[:tag|@digest]' }),
  };
  static override flags = { creds: creds(''), authfile, 'tls-verify': tlsVerify(''), 'retry-times': retryTimes };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Delete);
    const { deleteImage, parseTransportReference, StoreError } = await import('@pkit/storage');
    const { transportOptions } = await import('../options.ts');
    const { transport, spec } = parseTransportReference(args.image);
    if (transport !== 'docker') throw new StoreError(`delete works on registries: use docker://IMAGE, not "${args.image}"`, 'PKIT_BAD_REFERENCE');
    await deleteImage(spec, transportOptions({ creds: flags.creds, authfile: flags.authfile, tlsVerify: flags['tls-verify'], retryTimes: flags['retry-times'] }));
  }
}
