// The steps of `pbuild build` that change files, in the step's working container: RUN (through
// runStep: mounts, network, #! scripts), COPY and ADD (through copyInto: the context with its
// ignore file, heredoc sources, --from a stage or an image); and what such a step reads, for
// its cache key.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { badInput as bad } from '@pkit/storage/errors';
import { findImage } from '@pkit/storage/image-lookup';
import type { ContainerRecord } from '@pkit/storage/container-store';
import { runArgv, type Instruction, type StageArgs } from '../containerfile/index.ts';
import { sourcesDigest } from '../context/sources-digest.ts';
import { pullBaseImages } from './base-image.ts';
import { BuildRunError } from './build-request.ts';
import type { Build } from './build-state.ts';
import { readWorkingConfig } from './config.ts';
import { copyInto } from './copy.ts';
import { runStep } from './run-mounts.ts';
import { ensureWorkingDir } from './working.ts';

/** The content digest of the context files a step reads (COPY/ADD sources, RUN bind mounts). */
export async function contextRead(b: Build, x: Instruction): Promise<string> {
  if (x.kind === 'RUN') {
    const binds = x.mounts.filter((m) => m.type === 'bind' && m.from === undefined).map((m) => m.source ?? '.');
    return sourcesDigest(b.contextDir, binds);
  }
  if (x.kind !== 'COPY' && x.kind !== 'ADD') return '';
  const paths = x.sources.flatMap((s) => (s.kind === 'path' ? [s.path] : []));
  return sourcesDigest(b.contextDir, paths, { ignore: b.ignore, excludes: x.excludes, parents: x.kind === 'COPY' && x.parents, add: x.kind === 'ADD' });
}

/**
 * The images a step reads besides its parent, each resolved once (its cache key and its run
 * see the same): COPY --from and RUN --mount=from=, a stage built before this one, else an
 * image of the store (pulled when missing).
 */
export async function stepImages(b: Build, x: Instruction): Promise<Map<string, string>> {
  const names = x.kind === 'COPY' && x.from !== undefined ? [x.from] : x.kind === 'RUN' ? x.mounts.flatMap((m) => (m.from !== undefined ? [m.from] : [])) : [];
  const out = new Map<string, string>();
  for (const n of names) if (!out.has(n)) out.set(n, await imageOf(b, n, x));
  return out;
}

async function imageOf(b: Build, name: string, x: Instruction): Promise<string> {
  const byName = b.cf.stages.find((st) => st.name === name.toLowerCase());
  const byIndex = /^\d+$/.test(name) ? b.cf.stages[Number(name)] : undefined;
  const st = byName ?? byIndex;
  if (st) {
    const id = b.stageImage.get(st.index);
    const flag = x.kind === 'RUN' ? '--mount from' : '--from';
    if (id === undefined) throw bad(`${x.loc.file}:${x.loc.line}: ${x.kind} ${flag}=${name}: that stage is not built before this one`);
    return id;
  }
  // an image: pulled first as --pull says, as for FROM (an index resolves to the platform)
  await pullBaseImages([{ ref: name, platform: b.target }], b.req);
  return (await findImage(b.store, name)).id;
}

/** RUN, COPY or ADD in the step's working container; returns the history's created_by. */
export async function fileStep(b: Build, rec: ContainerRecord, x: Instruction, args: StageArgs, env: Map<string, string>, shell: string[], images: Map<string, string>): Promise<string> {
  if (x.kind === 'RUN') {
    const { argv, script } = runArgv(x, shell);
    // ARG values are the RUN's environment, below the image's ENV.
    const argEnv = [...args.values, ...args.proxyEnv()].filter(([k]) => !env.has(k)).map(([k, v]) => `${k}=${v}`);
    const network = x.network ?? b.req.network;
    const code = await runStep(b.store, rec, {
      argv,
      ...(script ? { script } : {}),
      env: argEnv,
      mounts: x.mounts,
      ...(network !== undefined ? { network } : {}),
      contextDir: b.contextDir,
      secrets: b.secrets,
      resolveFrom: (name) => images.get(name)!,
    });
    if (code !== 0) throw new BuildRunError(`building at STEP "${x.source}": while running runtime: exit status ${code}`, code);
    // buildah's history: "|N K=V ... CMD" when the stage declared ARGs.
    const declared = [...args.declared].filter((k) => args.values.has(k)).sort().map((k) => `${k}=${args.values.get(k)}`);
    return `${declared.length ? `|${declared.length} ${declared.join(' ')} ` : ''}${argv.join(' ')}`;
  }
  if (x.kind !== 'COPY' && x.kind !== 'ADD') throw bad(`${x.loc.file}:${x.loc.line}: ${x.kind} does not change files`);
  // WORKDIR only changed the config; its directory is made with the next step that changes
  // files (buildah's way), so a relative DEST lands in it.
  const wd = (await readWorkingConfig(b.store, rec)).config.WorkingDir;
  if (wd) await ensureWorkingDir(b.store, rec, wd);
  // Inline files (COPY <<EOF dest) are written to the scratch dir and copied from there, under
  // their names: a name that is not a plain file name could write elsewhere, or be a glob.
  const heredocs = x.sources.filter((s) => s.kind === 'heredoc');
  if (heredocs.length && heredocs.length !== x.sources.length) throw bad(`${x.loc.file}:${x.loc.line}: mixing heredoc and path sources is not supported yet`);
  const dir = heredocs.length ? mkdtempSync(join(b.scratch, 'heredoc-')) : undefined;
  const sources = x.sources.map((s) => {
    if (s.kind === 'path') return s.path;
    const name = s.heredoc.name;
    if (name === '.' || name === '..' || /[/\\*?[]/.test(name)) throw bad(`${x.loc.file}:${x.loc.line}: the heredoc name "${name}" is not a plain file name: use letters, digits, "-", "_" or "."`);
    writeFileSync(join(dir!, name), s.heredoc.content);
    return name;
  });
  const from = x.kind === 'COPY' && x.from !== undefined ? images.get(x.from) : undefined;
  const copied = await copyInto(b.store, rec, sources, x.dest, {
    contextDir: dir ?? b.contextDir,
    ...(x.chown !== undefined ? { chown: x.chown } : {}),
    ...(x.chmod !== undefined ? { chmod: x.chmod } : {}),
    ...(from !== undefined ? { from } : {}),
    ...(x.kind === 'ADD' ? { add: true } : {}),
    // the ignore file covers the context only (not heredocs or --from), as buildah
    ...(heredocs.length || from !== undefined ? {} : { ignore: b.ignore }),
    ...(x.excludes.length ? { excludes: x.excludes } : {}),
    ...(x.kind === 'COPY' && x.parents ? { parents: true } : {}),
    ...(x.kind === 'ADD' && x.checksum !== undefined ? { checksum: x.checksum } : {}),
    ...(x.link ? { link: true } : {}),
  });
  const what = sources.length === 1 && !sources[0]!.endsWith('/') ? 'file' : 'multi';
  return `/bin/sh -c #(nop) ${x.kind} ${what}:${copied.digest.replace(/^sha256:/, '')} in ${x.dest} `;
}
