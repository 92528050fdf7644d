import { Args, Flags } from '@oclif/core';
import { BaseCommand, authfile, creds, tlsVerify } from '@pkit/cli-common';

export default class Pull extends BaseCommand {
  static override summary = 'Pull an image from a registry (or another transport) into local storage';
  static override description =
    'As buildah: with --policy missing (the default) an image already stored is not pulled again. ' +
    'Short names are resolved through registries.conf. Also takes docker://REF, oci-archive:FILE[:REF], docker-archive:FILE[:REF], oci:DIR[:REF] and dir:DIR. ' +
    'Progress goes to stderr; the image ID (full, without sha256:) to stdout, the first one with --all-tags.';
  static override examples = [
    '<%= config.bin %> pull quay.io/podman/hello',
    '<%= config.bin %> pull --tls-verify=false localhost:5000/app:1',
    '<%= config.bin %> pull --policy always --platform linux/arm64 docker.io/library/busybox',
    '<%= config.bin %> pull oci-archive:app.tar',
  ];
  static override args = {
    image: Args.string({ required: true, ignoreStdin: true, description: 'image reference' }),
  };
  static override flags = {
    'all-tags': Flags.boolean({ char: 'a', summary: 'Pull every tagged image of the repository' }),
    authfile,
    creds: creds(''),
    'tls-verify': tlsVerify(''),
    platform: Flags.string({ summary: 'Pick the image for this platform from a multi-arch index', helpValue: 'OS/ARCH[/VARIANT]' }),
    arch: Flags.string({ summary: 'Pick the image for this architecture' }),
    os: Flags.string({ summary: 'Pick the image for this operating system' }),
    variant: Flags.string({ summary: 'Pick the image for this architecture variant' }),
    policy: Flags.string({ summary: 'always, missing (pull only when not stored), never (use the stored image) or newer (pull, keep the stored one if that fails)', options: ['always', 'missing', 'never', 'newer'], default: 'missing' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Do not print progress' }),
    'remove-signatures': Flags.boolean({ summary: 'Do not copy signatures (pbuild never stores them)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Pull);
    const { parsePlatformFlags } = await import('@pkit/cli-common/platform');
    const platform = parsePlatformFlags(flags);
    const { pullImage } = await import('../actions/pull.ts');
    const id = await pullImage({
      root: flags.root,
      image: args.image,
      quiet: flags.quiet,
      allTags: flags['all-tags'],
      tlsVerify: flags['tls-verify'],
      creds: flags.creds,
      authfile: flags.authfile,
      policy: flags.policy as 'always' | 'missing' | 'never' | 'newer',
      ...(platform ? { platform } : {}),
    });
    this.log(id.slice('sha256:'.length));
  }
}
