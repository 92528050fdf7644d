import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

export default class Cp extends BaseCommand {
  static override summary = 'Copy files between a container and the host';
  static override description =
    'One of SRC and DEST is CONTAINER:PATH; the container may be running or stopped. "-" is a tar stream on stdin (DEST must then be a directory) or stdout. SRC ending in "/." copies what is in it; an existing directory DEST receives SRC under its own name, otherwise DEST is the new name. Files copied to the host belong to you; files copied into a container belong to its user (--no-archive: keep their ids).';
  static override examples = [
    '<%= config.bin %> cp web:/etc/nginx/nginx.conf .',
    '<%= config.bin %> cp ./site/. web:/usr/share/html',
    '<%= config.bin %> cp web:/var/log - | tar -t',
  ];
  static override args = {
    src: Args.string({ required: true, ignoreStdin: true, description: '[CONTAINER:]SRC_PATH or -' }),
    dest: Args.string({ required: true, ignoreStdin: true, description: '[CONTAINER:]DEST_PATH or -' }),
  };
  static override flags = {
    archive: Flags.boolean({ char: 'a', allowNo: true, default: true, summary: 'Give files copied into a container the ids of its user (default; --archive=false or --no-archive keeps their own)' }),
  };

  async run(): Promise<void> {
    const { args, flags } = await this.parse(Cp);
    const { cpAction } = await import('../actions/cp.ts');
    await cpAction({ root: flags.root, src: args.src, dest: args.dest, archive: flags.archive });
  }
}
