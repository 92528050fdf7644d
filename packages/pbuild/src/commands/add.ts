import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';
import { copyCommand, copyFlags } from './copy.ts';

export default class Add extends BaseCommand {
  static override summary = 'Add files, archives or URLs to a working container';
  static override description =
    'As pbuild copy (a Containerfile\'s ADD), and: a local tar archive (plain, gzip, bzip2, xz or zstd, told by its content) is extracted at DEST; an http(s) URL is downloaded (mode 0600 unless --chmod), not extracted. --checksum verifies the one source (a download, or a local file) before anything is copied.';
  static override examples = [
    '<%= config.bin %> add $ctr rootfs.tar.xz /',
    '<%= config.bin %> add $ctr https://example.com/tool /usr/local/bin/tool',
    '<%= config.bin %> add --checksum sha256:$(sha256sum tool | cut -c1-64) $ctr https://example.com/tool /usr/local/bin/',
  ];
  static override strict = false;
  static override args = {
    container: Args.string({ required: true, ignoreStdin: true, description: 'working container name or ID' }),
    paths: Args.string({ required: false, ignoreStdin: true, description: 'SRC... DEST' }),
  };
  static override flags = {
    ...copyFlags,
    checksum: Flags.string({ summary: 'The source must have this digest, sha256:HEX (the download of a URL, or a local file)' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Add);
    await copyCommand(this, argv as string[], flags, true);
  }
}
