import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

const many = { multiple: true as const, multipleNonGreedy: true };

export default class Build extends BaseCommand {
  static override summary = 'Build an image from a Containerfile';
  static override description =
    'Reads CONTEXT/Containerfile (else CONTEXT/Dockerfile, or -f FILE, "-f -" for stdin) and builds the stages the target needs, as a normal user. Prints podman build\'s STEP lines and the image ID on stdout (on stderr with -o -).';
  static override examples = ['<%= config.bin %> build -t app .', '<%= config.bin %> build -f Containerfile.dev --build-arg VERSION=2 --target test .'];
  static override args = { context: Args.string({ required: false, ignoreStdin: true, description: 'build context directory (default .); - reads a tar of it (or a lone Containerfile) from stdin' }) };
  static override flags = {
    tag: Flags.string({ char: 't', summary: 'Name the image (several allowed)', ...many }),
    file: Flags.string({ char: 'f', summary: 'The Containerfile (default: CONTEXT/Containerfile, else CONTEXT/Dockerfile; - reads stdin)' }),
    'build-arg': Flags.string({ summary: 'ARG value: NAME=VALUE (NAME alone takes it from the environment)', ...many }),
    target: Flags.string({ summary: 'Build up to this stage' }),
    squash: Flags.boolean({ summary: 'Commit the last stage\'s steps as one layer over its base' }),
    layers: Flags.boolean({ summary: 'Cache each step as an intermediate image (default true, as podman build)', allowNo: true }),
    'build-arg-file': Flags.string({ summary: 'A file of ARG values, one NAME=VALUE per line (# comments); --build-arg wins', ...many }),
    format: Flags.string({ summary: 'The image format: oci (default) or docker (also $BUILDAH_FORMAT)', options: ['oci', 'docker'] }),
    annotation: Flags.string({ summary: 'Add a manifest annotation: KEY=VALUE (dropped by --format docker)', ...many }),
    timestamp: Flags.integer({ summary: 'Created time and every file time, in seconds since the epoch: the same inputs give the same image (default $SOURCE_DATE_EPOCH, else now)', min: 0 }),
    'no-cache': Flags.boolean({ summary: 'Do not use cached steps' }),
    label: Flags.string({ summary: 'Add a label to the image: KEY=VALUE', ...many }),
    env: Flags.string({ summary: 'Set an environment variable in the image: KEY=VALUE (KEY alone takes our value)', ...many }),
    output: Flags.string({ char: 'o', summary: 'Also export the image\'s files: type=local,dest=DIR (or DIR), type=tar,dest=FILE, - for a tar on stdout' }),
    platform: Flags.string({ summary: 'The image\'s platform, OS/ARCH[/VARIANT] (default: this machine\'s); base images are pulled for it' }),
    os: Flags.string({ summary: 'The image\'s OS (default: this machine\'s)' }),
    arch: Flags.string({ summary: 'The image\'s architecture (default: this machine\'s)' }),
    variant: Flags.string({ summary: 'The image\'s architecture variant' }),
    secret: Flags.string({ summary: 'A secret for RUN --mount=type=secret: id=ID,src=FILE or id=ID,env=VAR', ...many }),
    network: Flags.string({ summary: 'The network of RUN steps: slirp4netns (default, as podman build), none or host', options: ['default', 'slirp4netns', 'none', 'host', 'private'] }),
    creds: Flags.string({ summary: 'Credentials for pulling base images: USER[:PASSWORD]' }),
    authfile: Flags.string({ summary: 'The auth file for pulling base images (default: as pbuild login writes it)' }),
    ignorefile: Flags.string({ summary: 'The ignore file (default: CONTEXT/.containerignore, else .dockerignore)' }),
    from: Flags.string({ summary: 'Use this image as the first stage\'s base instead of its FROM' }),
    rm: Flags.boolean({ summary: 'Remove intermediate containers (always done; accepted for compatibility)', allowNo: true }),
    'force-rm': Flags.boolean({ summary: 'Remove intermediate containers also after a failure (always done)', allowNo: true }),
    'disable-compression': Flags.boolean({ char: 'D', summary: 'Store layers uncompressed (always done, as buildah; pushes compress)', allowNo: true }),
    iidfile: Flags.string({ summary: 'Write the image ID to this file' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Print only the image ID' }),
    pull: Flags.string({ summary: 'Pull base images: always, missing (default), never', options: ['always', 'missing', 'never', 'true', 'false'] }),
    'tls-verify': Flags.boolean({ summary: 'Verify TLS when pulling (default true)', allowNo: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Build);
    const { buildAction, readBuildArgFiles, timestamp } = await import('../actions/build.ts');
    const id = await buildAction({
      root: flags.root,
      context: args.context ?? '.',
      tags: flags.tag ?? [],
      buildArgs: [...readBuildArgFiles(flags['build-arg-file'] ?? []), ...(flags['build-arg'] ?? [])],
      annotations: flags.annotation ?? [],
      format: (flags.format ?? process.env['BUILDAH_FORMAT'] ?? 'oci') as 'oci' | 'docker',
      layers: flags.layers ?? true,
      squash: flags.squash,
      labels: flags.label ?? [],
      env: flags.env ?? [],
      ...(flags.from !== undefined ? { from: flags.from } : {}),
      ...(flags.output !== undefined ? { output: flags.output } : {}),
      ...(flags.ignorefile !== undefined ? { ignoreFile: flags.ignorefile } : {}),
      ...(flags.platform !== undefined ? { platform: flags.platform } : {}),
      ...(flags.os !== undefined ? { os: flags.os } : {}),
      ...(flags.arch !== undefined ? { arch: flags.arch } : {}),
      ...(flags.variant !== undefined ? { variant: flags.variant } : {}),
      ...(flags.creds !== undefined ? { creds: flags.creds } : {}),
      secrets: flags.secret ?? [],
      ...(flags.network !== undefined ? { network: ['none', 'host'].includes(flags.network) ? (flags.network as 'none' | 'host') : 'default' } : {}),
      ...(flags.authfile !== undefined ? { authfile: flags.authfile } : {}),
      quiet: flags.quiet,
      noCache: flags['no-cache'],
      ...(flags.file !== undefined ? { file: flags.file } : {}),
      ...(flags.target !== undefined ? { target: flags.target } : {}),
      ...(flags.iidfile !== undefined ? { iidfile: flags.iidfile } : {}),
      ...(flags.pull !== undefined ? { pull: flags.pull } : {}),
      ...(timestamp(flags.timestamp) !== undefined ? { timestamp: timestamp(flags.timestamp)! } : {}),
      ...(flags['tls-verify'] !== undefined ? { tlsVerify: flags['tls-verify'] } : {}),
    });
    // stdout carries the image's files with -o -: the ID goes to stderr then
    if (flags.output === '-') process.stderr.write(`${id}\n`);
    else this.log(id);
  }
}
