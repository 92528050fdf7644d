import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';
import { authfile, creds, platformFlags, platformOf, retryTimes, tlsVerify } from '../flags.ts';

export default class Inspect extends BaseCommand {
  static override summary = 'Inspect an image without pulling its layers';
  static override description = 'Prints skopeo inspect\'s JSON: Name, Digest, RepoTags, Created, DockerVersion, Labels, Architecture, Os, Layers, LayersData, Env.';
  static override examples = ['<%= config.bin %> inspect docker://registry.example/app:1', '<%= config.bin %> inspect --raw oci:layout:1', '<%= config.bin %> inspect --config local:app'];
  static override args = {
    image: Args.string({ required: true, ignoreStdin: true, description: 'image reference (transport:name)' }),
  };
  static override flags = {
    raw: Flags.boolean({ summary: 'Print the manifest as stored, unchanged' }),
    config: Flags.boolean({ summary: 'Print the image config (with --raw: unchanged bytes)' }),
    'no-tags': Flags.boolean({ char: 'n', summary: 'Do not list the repository\'s tags' }),
    creds: creds(''),
    authfile,
    'tls-verify': tlsVerify(''),
    'retry-times': retryTimes,
    ...platformFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Inspect);
    const storage = await import('@pkit/storage');
    const { transportOptions } = await import('../options.ts');
    const platform = platformOf(flags);
    const opts = transportOptions({
      creds: flags.creds,
      authfile: flags.authfile,
      tlsVerify: flags['tls-verify'],
      retryTimes: flags['retry-times'],
      root: flags.root,
      platform,
    });
    const src = await storage.openSource(args.image, opts);
    try {
      if (flags.config) {
        const bytes = await storage.imageConfigBytes(src, platform);
        process.stdout.write(flags.raw ? bytes : `${JSON.stringify(JSON.parse(bytes.toString('utf8')), null, 4)}\n`);
      } else if (flags.raw) {
        process.stdout.write((await storage.rawManifest(src)).bytes);
      } else {
        const info = await storage.inspectImage(src, { name: storage.inspectName(args.image), noTags: flags['no-tags'], platform });
        this.log(JSON.stringify(info, null, 4));
      }
    } finally {
      await src.close();
    }
  }
}
