import { Args, Flags } from '@oclif/core';
import { BaseCommand, authfile, creds, tlsVerify } from '@pkit/cli-common';

export default class Pull extends BaseCommand {
  static override summary = 'Pull an image from a registry (or another transport) into local storage';
  static override description =
    'Short names are resolved through registries.conf (aliases, unqualified-search registries) as podman does. ' +
    'Also takes docker://REF, oci-archive:FILE[:REF], docker-archive:FILE[:REF], oci:DIR[:REF] and dir:DIR. ' +
    'Progress goes to stderr; the image ID (full, without sha256:) to stdout.';
  static override examples = [
    '<%= config.bin %> pull quay.io/podman/hello',
    '<%= config.bin %> pull --tls-verify=false localhost:5000/app:1',
    '<%= config.bin %> pull --platform linux/arm64 docker.io/library/busybox',
    '<%= config.bin %> pull oci-archive:app.tar',
  ];
  static override args = {
    image: Args.string({ required: true, ignoreStdin: true, description: 'image reference' }),
  };
  static override flags = {
    'tls-verify': tlsVerify(''),
    creds: creds(''),
    authfile,
    quiet: Flags.boolean({ char: 'q', summary: 'Suppress output information when pulling images' }),
    'all-tags': Flags.boolean({ char: 'a', summary: 'Pull every tagged image of the repository' }),
    platform: Flags.string({ summary: 'Pick the image for this platform from a multi-arch index', helpValue: 'OS/ARCH[/VARIANT]' }),
    arch: Flags.string({ summary: 'Pick the image for this architecture' }),
    os: Flags.string({ summary: 'Pick the image for this operating system' }),
    variant: Flags.string({ summary: 'Pick the image for this architecture variant' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Pull);
    const { parsePlatformFlags } = await import('../actions/platform.ts');
    const platform = parsePlatformFlags(flags);
    const { pullImages } = await import('../actions/pull.ts');
    const ids = await pullImages({
      root: flags.root,
      image: args.image,
      quiet: flags.quiet,
      allTags: flags['all-tags'],
      tlsVerify: flags['tls-verify'],
      creds: flags.creds,
      authfile: flags.authfile,
      ...(platform ? { platform } : {}),
    });
    for (const id of ids) this.log(id.slice('sha256:'.length));
  }
}
