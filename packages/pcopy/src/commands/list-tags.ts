import { Args } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';
import { authfile, creds, retryTimes, tlsVerify } from '../flags.ts';

export default class ListTags extends BaseCommand {
  static override summary = 'List the tags of a repository';
  static override examples = ['<%= config.bin %> list-tags docker://registry.example/app'];
  static override args = {
    repository: Args.string({ required: true, ignoreStdin: true, description: 'docker://[registry/]repository' }),
  };
  static override flags = { creds: creds(''), authfile, 'tls-verify': tlsVerify(''), 'retry-times': retryTimes };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(ListTags);
    const { listTags, parseTransportReference, parseReference, StoreError } = await import('@pkit/storage');
    const { transportOptions } = await import('../options.ts');
    const { transport, spec } = parseTransportReference(args.repository);
    if (transport !== 'docker') throw new StoreError(`list-tags reads registries: use docker://REPOSITORY, not "${args.repository}"`, 'PKIT_BAD_REFERENCE');
    const ref = parseReference(spec, { defaultTag: false });
    if (ref.tag !== undefined || ref.digest !== undefined) {
      throw new StoreError(`list-tags takes a repository without a tag or digest: "${args.repository}"`, 'PKIT_BAD_REFERENCE');
    }
    const tags = await listTags(spec, transportOptions({ creds: flags.creds, authfile: flags.authfile, tlsVerify: flags['tls-verify'], retryTimes: flags['retry-times'] }));
    this.log(JSON.stringify({ Repository: `${ref.registry}/${ref.repository}`, Tags: tags }, null, 4));
  }
}
