import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';
import { authfile, creds, platformFlags, platformOf, retryTimes, tlsVerify } from '../flags.ts';

export default class Sync extends BaseCommand {
  static override summary = 'Synchronize images between registries and directories';
  static override description =
    'Copies every image of SOURCE to DESTINATION, as skopeo sync. ' +
    '--src docker: SOURCE is REGISTRY/REPOSITORY[:TAG] (without a tag: every tag). --src dir: SOURCE is a directory tree of dir: images. ' +
    '--dest docker: DESTINATION is REGISTRY[/NAMESPACE]; --dest dir: a directory. ' +
    'Each image goes to DESTINATION/NAME:TAG (NAME: the last path component of the source; with --scoped, its full path). ' +
    'An image already at the destination with the same manifest is skipped. With --dry-run the plan is printed as JSON lines on stdout.';
  static override examples = [
    '<%= config.bin %> sync --src docker --dest docker registry.example/app mirror.example/team',
    '<%= config.bin %> sync --src docker --dest dir --scoped registry.example/busybox /media/usb',
    '<%= config.bin %> sync --src dir --dest docker /media/usb mirror.example/team',
  ];
  static override args = {
    source: Args.string({ required: true, ignoreStdin: true, description: 'source repository or image (docker), or directory (dir)' }),
    destination: Args.string({ required: true, ignoreStdin: true, description: 'destination registry or namespace (docker), or directory (dir)' }),
  };
  static override flags = {
    src: Flags.string({ char: 's', summary: 'SOURCE transport type', options: ['docker', 'dir'], required: true }),
    dest: Flags.string({ char: 'd', summary: 'DESTINATION transport type', options: ['docker', 'dir'], required: true }),
    scoped: Flags.boolean({ summary: 'Name images at DESTINATION with the full source image path as scope' }),
    all: Flags.boolean({ char: 'a', summary: 'Copy every image of a multi-architecture index, and the index' }),
    'src-creds': creds('src'),
    'dest-creds': creds('dest'),
    authfile,
    'src-authfile': Flags.string({ summary: 'Authentication file for the source registry' }),
    'dest-authfile': Flags.string({ summary: 'Authentication file for the destination registry' }),
    'src-tls-verify': tlsVerify('src'),
    'dest-tls-verify': tlsVerify('dest'),
    format: Flags.string({ char: 'f', summary: 'Manifest format at the destination', options: ['oci', 'v2s2'] }),
    'preserve-digests': Flags.boolean({ summary: 'Fail rather than change any digest (format conversion, recompression)' }),
    'keep-going': Flags.boolean({ summary: 'Do not stop the sync when an image fails to copy' }),
    'dry-run': Flags.boolean({ summary: 'Print what would be copied (JSON lines on stdout) and copy nothing' }),
    'retry-times': retryTimes,
    quiet: Flags.boolean({ char: 'q', summary: 'Print no progress (errors and the summary still go to stderr)' }),
    ...platformFlags,
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Sync);
    const { planSync, runSync, syncFailureMessage, syncSummaryLine, StoreError } = await import('@pkit/storage');
    const { sideOptions } = await import('../options.ts');
    const { copyProgress } = await import('../progress.ts');
    const platform = platformOf(flags);
    const side = (s: 'src' | 'dest') => sideOptions(flags, s, platform);
    const say = (line: string) => {
      if (!flags.quiet) process.stderr.write(`${line}\n`);
    };
    const src = side('src');
    const plan = await planSync(args.source, args.destination, { src: flags.src, dest: flags.dest, scoped: flags.scoped, srcOptions: src });

    if (flags['dry-run']) {
      plan.forEach((item, i) => {
        say(`Would have copied image ref ${i + 1}/${plan.length} from ${item.source} to ${item.destination}`);
        process.stdout.write(`${JSON.stringify(item)}\n`);
      });
      process.stderr.write(`Would have synced ${plan.length} images\n`);
      return;
    }

    const summary = await runSync(plan, {
      src,
      dst: side('dest'),
      keepGoing: flags['keep-going'],
      all: flags.all,
      platform,
      preserveDigests: flags['preserve-digests'],
      ...(flags.format ? { format: flags.format === 'v2s2' ? 'docker' : 'oci' } : {}),
      events: {
        imageStart: (item, i, n) => say(`Copying image ref ${i + 1}/${n} from ${item.source} to ${item.destination}`),
        imageSkipped: () => say('Skipping: image already present at destination'),
        // Without --keep-going the failure is the last line (the error); with it, each one here.
        imageFailed: (item, _i, _n, err) => {
          if (flags['keep-going']) process.stderr.write(`Error copying ref ${syncFailureMessage(item, err)}\n`);
        },
        copyProgress: () => {
          if (flags.quiet) return undefined;
          const p = copyProgress(false);
          p.begin();
          return p;
        },
      },
    });
    const line = syncSummaryLine(summary);
    if (summary.stopped) {
      // Not a user's error (no PKIT_ or errno code): a bug, shown with its stack trace.
      const cause = summary.results.find((r) => r.outcome === 'failed')?.error;
      if (cause && !(cause instanceof StoreError) && typeof (cause as NodeJS.ErrnoException).code !== 'string') throw cause;
    }
    if (summary.failed > 0) throw new StoreError(line, 'PKIT_SYNC_FAILED');
    process.stderr.write(`${line}\n`);
  }
}
