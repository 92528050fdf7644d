import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

const many = { multiple: true as const, multipleNonGreedy: true };

export default class Build extends BaseCommand {
  static override summary = 'Build an image from a Containerfile';
  static override description =
    'Reads CONTEXT/Containerfile (else CONTEXT/Dockerfile, or -f FILE, "-f -" for stdin) and builds the stages the target needs, as a normal user. Prints podman build\'s STEP lines on stderr and the image ID on stdout.';
  static override examples = ['<%= config.bin %> build -t app .', '<%= config.bin %> build -f Containerfile.dev --build-arg VERSION=2 --target test .'];
  static override args = { context: Args.string({ required: false, ignoreStdin: true, description: 'build context directory (default .)' }) };
  static override flags = {
    tag: Flags.string({ char: 't', summary: 'Name the image (several allowed)', ...many }),
    file: Flags.string({ char: 'f', summary: 'The Containerfile (default: CONTEXT/Containerfile, else CONTEXT/Dockerfile; - reads stdin)' }),
    'build-arg': Flags.string({ summary: 'ARG value: NAME=VALUE (NAME alone takes it from the environment)', ...many }),
    target: Flags.string({ summary: 'Build up to this stage' }),
    layers: Flags.boolean({ summary: 'Accepted for compatibility: pbuild always caches (per stage, for now)', allowNo: true }),
    'no-cache': Flags.boolean({ summary: 'Do not use cached steps' }),
    label: Flags.string({ summary: 'Add a label to the image: KEY=VALUE', ...many }),
    iidfile: Flags.string({ summary: 'Write the image ID to this file' }),
    quiet: Flags.boolean({ char: 'q', summary: 'Print only the image ID' }),
    pull: Flags.string({ summary: 'Pull base images: always, missing (default), never', options: ['always', 'missing', 'never', 'true', 'false'] }),
    'tls-verify': Flags.boolean({ summary: 'Verify TLS when pulling (default true)', allowNo: true }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Build);
    const { buildAction, BuildRunError } = await import('../actions/build.ts');
    const id = await buildAction({
      root: flags.root,
      context: args.context ?? '.',
      tags: flags.tag ?? [],
      buildArgs: flags['build-arg'] ?? [],
      labels: flags.label ?? [],
      quiet: flags.quiet,
      noCache: flags['no-cache'],
      ...(flags.file !== undefined ? { file: flags.file } : {}),
      ...(flags.target !== undefined ? { target: flags.target } : {}),
      ...(flags.iidfile !== undefined ? { iidfile: flags.iidfile } : {}),
      ...(flags.pull !== undefined ? { pull: flags.pull } : {}),
      ...(flags['tls-verify'] !== undefined ? { tlsVerify: flags['tls-verify'] } : {}),
    }).catch((err: unknown) => {
      if (!(err instanceof BuildRunError)) throw err;
      process.stderr.write(`Error: ${err.message}\n`);
      return this.exit(err.exitCode);
    });
    this.log(id);
  }
}
