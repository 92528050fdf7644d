import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';

const many = { multiple: true as const, multipleNonGreedy: true };

/** The flags copy and add share (buildah's). */
export const copyFlags = {
  chown: Flags.string({ summary: 'Owner of the copied files in the container, USER[:GROUP] (names from its /etc/passwd and /etc/group; default 0:0)' }),
  chmod: Flags.string({ summary: 'Mode of the copied files and directories (octal)' }),
  from: Flags.string({ summary: 'Copy from this container or image instead of the host' }),
  contextdir: Flags.string({ summary: 'Build context directory: SRC paths are relative to it and may not leave it; its .containerignore (else .dockerignore) applies' }),
  ignorefile: Flags.string({ summary: 'Use this .containerignore file instead of the context\'s (needs --contextdir)' }),
  exclude: Flags.string({ summary: 'Do not copy files matching PATTERN (.containerignore syntax, paths as they land under DEST; several allowed)', ...many }),
  link: Flags.boolean({ summary: 'Accepted for compatibility: the files are copied as without it' }),
  quiet: Flags.boolean({ char: 'q', summary: 'Do not print the digest of the copied content' }),
};

export default class Copy extends BaseCommand {
  static override summary = 'Copy files into a working container';
  static override description =
    'As buildah copy (a Containerfile\'s COPY): a SRC directory copies what is in it; a file keeps its name in a directory DEST; globs in SRC; several sources need DEST to be a directory (made when missing). Relative DEST starts at the container\'s working directory. Files belong to 0:0 unless --chown. With --contextdir, SRC is relative to that directory and its .containerignore (else .dockerignore) patterns are never copied. Prints the digest of the copied content.';
  static override examples = [
    '<%= config.bin %> copy $ctr ./app /srv/app',
    '<%= config.bin %> copy --chown nobody:nogroup --chmod 600 $ctr secret.conf /etc/',
    "<%= config.bin %> copy --exclude '**/*.md' --contextdir . $ctr docs /docs",
    '<%= config.bin %> copy --parents --contextdir . $ctr x/a.txt y/a.txt /parents/',
  ];
  static override strict = false;
  static override args = {
    container: Args.string({ required: true, ignoreStdin: true, description: 'working container name or ID' }),
    paths: Args.string({ required: false, ignoreStdin: true, description: 'SRC... DEST' }),
  };
  static override flags = {
    ...copyFlags,
    parents: Flags.boolean({ summary: 'Keep each source\'s leading directories under DEST (from the context directory, or from a /./ in SRC)' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Copy);
    await copyCommand(this, argv as string[], flags, false);
  }
}

interface CopyCommandFlags {
  root?: string;
  chown?: string;
  chmod?: string;
  from?: string;
  contextdir?: string;
  ignorefile?: string;
  exclude?: string[];
  parents?: boolean;
  checksum?: string;
  link?: boolean;
  quiet?: boolean;
}

/** copy and add: CONTAINER SRC... DEST. */
export async function copyCommand(cmd: BaseCommand, argv: string[], flags: CopyCommandFlags, add: boolean): Promise<void> {
  const verb = add ? 'add' : 'copy';
  const [container, ...paths] = argv;
  if (container === undefined || paths.length < 2) cmd.error(`"pbuild ${verb}" requires a CONTAINER, at least one SRC and a DEST (see --help)`, { exit: 125 });
  if (flags.ignorefile !== undefined && flags.contextdir === undefined) cmd.error('--ignorefile needs --contextdir (the directory its patterns are relative to)', { exit: 125 });
  const { openStore, findWorking } = await import('../actions/working.ts');
  const { copyInto } = await import('../actions/copy.ts');
  // As buildah: the context's ignore file counts only with --contextdir, and not for --from.
  const ignore =
    flags.contextdir !== undefined && flags.from === undefined
      ? (await import('../context/ignore.ts')).loadIgnore(flags.contextdir, flags.ignorefile !== undefined ? { ignoreFile: flags.ignorefile } : {})
      : undefined;
  const store = openStore(flags.root);
  try {
    const rec = await findWorking(store, container);
    const r = await copyInto(store, rec, paths.slice(0, -1), paths.at(-1)!, {
      add,
      ...(flags.chown !== undefined ? { chown: flags.chown } : {}),
      ...(flags.chmod !== undefined ? { chmod: flags.chmod } : {}),
      ...(flags.from !== undefined ? { from: flags.from } : {}),
      ...(flags.contextdir !== undefined ? { contextDir: flags.contextdir } : {}),
      ...(ignore !== undefined ? { ignore } : {}),
      ...(flags.exclude !== undefined ? { excludes: flags.exclude } : {}),
      ...(flags.parents ? { parents: true } : {}),
      ...(flags.checksum !== undefined ? { checksum: flags.checksum } : {}),
      ...(flags.link ? { link: true } : {}),
    });
    if (!flags.quiet) cmd.log(r.digest.slice('sha256:'.length));
  } finally {
    store.close();
  }
}
