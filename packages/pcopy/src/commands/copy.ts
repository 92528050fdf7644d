import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';
import { authfile, creds, platformFlags, platformOf, retryTimes, tlsVerify } from '../flags.ts';

export default class Copy extends BaseCommand {
  static override summary = 'Copy an image from one location to another';
  static override description =
    'Locations: docker://REF, oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REF], dir:DIR, local:NAME (alias containers-storage:NAME). ' +
    'Digests are kept unless the destination needs another manifest format or layer compression (--format, --dest-compress-format, docker-archive).';
  static override examples = [
    '<%= config.bin %> copy docker://registry.example/app:1 oci:app-layout:1',
    '<%= config.bin %> copy --all docker://registry.example/app:1 docker://mirror.example/app:1',
    '<%= config.bin %> copy local:app oci-archive:/dev/stdout | ssh host pcopy copy oci-archive:/dev/stdin local:app',
  ];
  static override args = {
    source: Args.string({ required: true, ignoreStdin: true, description: 'source image' }),
    destination: Args.string({ required: true, ignoreStdin: true, description: 'destination image' }),
  };
  static override flags = {
    all: Flags.boolean({ char: 'a', summary: 'Copy every image of a multi-architecture index, and the index' }),
    'src-creds': creds('src'),
    'dest-creds': creds('dest'),
    authfile,
    'src-authfile': Flags.string({ summary: 'Authentication file for the source registry' }),
    'dest-authfile': Flags.string({ summary: 'Authentication file for the destination registry' }),
    'src-tls-verify': tlsVerify('src'),
    'dest-tls-verify': tlsVerify('dest'),
    'dest-compress-format': Flags.string({ summary: 'Layer compression at the destination', options: ['gzip', 'none'] }),
    'dest-decompress': Flags.boolean({ summary: 'Store layers uncompressed at the destination (same as --dest-compress-format none)' }),
    format: Flags.string({ char: 'f', summary: 'Manifest format at the destination', options: ['oci', 'v2s2'] }),
    'preserve-digests': Flags.boolean({ summary: 'Fail rather than change any digest (format conversion, recompression)' }),
    digestfile: Flags.string({ summary: 'Write the digest of the copied manifest to this file' }),
    'retry-times': retryTimes,
    'image-parallel-copies': Flags.integer({ summary: 'Layers copied at once (default 6)', min: 1 }),
    quiet: Flags.boolean({ char: 'q', summary: 'Print no progress' }),
    ...platformFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Copy);
    const { copyByReference } = await import('@pkit/storage');
    const { sideOptions, withStoreHooks } = await import('../options.ts');
    const { copyProgress } = await import('../progress.ts');
    const { writeFile } = await import('node:fs/promises');
    const platform = platformOf(flags);
    const side = (s: 'src' | 'dest') => sideOptions(flags, s, platform);
    const progress = copyProgress(flags.quiet);
    progress.begin();
    const compression = flags['dest-decompress'] ? 'none' : (flags['dest-compress-format'] as 'gzip' | 'none' | undefined);
    const result = await copyByReference(args.source, args.destination, {
      src: side('src'),
      dst: await withStoreHooks(side('dest'), args.destination),
      all: flags.all,
      platform,
      preserveDigests: flags['preserve-digests'],
      ...(compression ? { compression } : {}),
      ...(flags.format ? { format: flags.format === 'v2s2' ? 'docker' : 'oci' } : {}),
      ...(flags['image-parallel-copies'] ? { parallel: flags['image-parallel-copies'] } : {}),
      progress,
    });
    if (flags.digestfile) await writeFile(flags.digestfile, result.manifest.digest);
  }
}
