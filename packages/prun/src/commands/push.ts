import { Args, Flags } from '@oclif/core';
import { BaseCommand, authfile, creds, tlsVerify } from '@pkit/cli-common';

export default class Push extends BaseCommand {
  static override summary = 'Push an image from local storage to a registry (or another transport)';
  static override description =
    'DESTINATION defaults to docker://IMAGE; without a transport it is a registry reference (docker://). ' +
    'Also takes oci-archive:FILE[:REF], docker-archive:FILE[:REF], oci:DIR[:REF] and dir:DIR. Progress goes to stderr.';
  static override examples = [
    '<%= config.bin %> push registry.example/team/app:1',
    '<%= config.bin %> push --tls-verify=false app localhost:5000/app:1',
    '<%= config.bin %> push --creds user:secret app registry.example/app:1',
  ];
  static override args = {
    image: Args.string({ required: true, ignoreStdin: true, description: 'local image name or ID' }),
    destination: Args.string({ required: false, ignoreStdin: true, description: 'where to push (default: docker://IMAGE)' }),
  };
  static override flags = {
    'tls-verify': tlsVerify(''),
    creds: creds(''),
    authfile,
    quiet: Flags.boolean({ char: 'q', summary: 'Suppress output information when pushing images' }),
    format: Flags.string({ char: 'f', summary: 'Manifest type at the destination', options: ['oci', 'v2s2'] }),
    'compression-format': Flags.string({ summary: 'Compression of uncompressed layers (default gzip for registries)', options: ['gzip', 'zstd'] }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Push);
    const { pushImage } = await import('@pkit/cli-common/push');
    await pushImage({
      cli: 'prun',
      root: flags.root,
      image: args.image,
      destination: args.destination,
      quiet: flags.quiet,
      tlsVerify: flags['tls-verify'],
      creds: flags.creds,
      authfile: flags.authfile,
      format: flags.format as 'oci' | 'v2s2' | undefined,
      // podman: each destination's default (registries and OCI layouts gzip uncompressed layers)
      compress: 'default',
      compression: flags['compression-format'] as 'gzip' | 'zstd' | undefined,
    });
  }
}
