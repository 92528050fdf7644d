import { Args } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';
import { copyCommand, copyFlags } from './copy.ts';

export default class Add extends BaseCommand {
  static override summary = 'Add files, archives or URLs to a working container';
  static override description =
    'As pbuild copy (a Containerfile\'s ADD), and: a local tar archive (plain, gzip, bzip2, xz or zstd, told by its content) is extracted at DEST; an http(s) URL is downloaded (mode 0600 unless --chmod), not extracted.';
  static override examples = ['<%= config.bin %> add $ctr rootfs.tar.xz /', '<%= config.bin %> add $ctr https://example.com/tool /usr/local/bin/tool'];
  static override strict = false;
  static override args = {
    container: Args.string({ required: true, ignoreStdin: true, description: 'working container name or ID' }),
    paths: Args.string({ required: false, ignoreStdin: true, description: 'SRC... DEST' }),
  };
  static override flags = copyFlags;

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Add);
    await copyCommand(this, argv as string[], flags, true);
  }
}
