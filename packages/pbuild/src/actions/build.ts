// `pbuild build`: a Containerfile built stage by stage, one image per step, as buildah bud
// --layers. Each needed stage starts from its base (an image, an earlier stage's image, or
// scratch); a metadata instruction (ENV, LABEL, ...) makes an image with the changed config
// and an `empty_layer` history entry; RUN, COPY and ADD run in a working container on the
// parent image, whose upper dir is committed as the step's layer. Each step is looked up in
// the cache first (build-cache.ts). The last step's image gets the tags, labels, annotations
// and the output format.
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { StoreError } from '@pkit/storage/errors';
import { findImage, localImageName } from '@pkit/storage/image-lookup';
import type { Store } from '@pkit/storage/store';
import type { ContainerRecord } from '@pkit/storage/container-store';
import { readImageConfig } from '@pkit/runtime/container-run';
import { expandInstruction, parseContainerfile, parseTrigger, runArgv, stageArgs, stagesForTarget, unusedBuildArgs, hostPlatform, parsePlatform, type ArgInstruction, type Instruction, type NetworkMode, type Platform, type StageArgs } from '../containerfile/index.ts';
import { applyConfigChanges, initialWorkingConfig, readWorkingConfig, saveWorkingConfig, type ConfigChange, type WorkingConfig } from './config.ts';
import { cacheable, readEntry, readsContext, stepKey, writeEntry } from './build-cache.ts';
import { loadIgnore, type PathMatcher } from '../context/ignore.ts';
import { sourcesDigest } from '../context/sources-digest.ts';
import { configChanges, DEFAULT_SHELL, envMap } from './build-instructions.ts';
import { pullBaseImages } from './base-image.ts';
import { exportImage, parseOutput } from './build-output.ts';
import { copyInto } from './copy.ts';
import { runStep } from './run-mounts.ts';
import { parseSecrets, type BuildSecret } from './secrets.ts';
import { scratchImage, writeImage, type ImageFormat } from './image-write.ts';
import { guardInterrupts, type InterruptGuard } from './interrupt.ts';
import { commit, ensureWorkingDir, findWorking, fromImage, openStore, removeWorking } from './working.ts';

export interface BuildRequest {
  root: string | undefined;
  context: string;
  file?: string;
  tags: string[];
  buildArgs: string[];
  labels: string[];
  quiet: boolean;
  noCache: boolean;
  target?: string;
  iidfile?: string;
  pull?: string;
  tlsVerify?: boolean;
  /** --format: oci (default, as buildah) or docker */
  format?: ImageFormat;
  /** --annotation KEY=VALUE on the manifest */
  annotations?: string[];
  /** --timestamp or SOURCE_DATE_EPOCH: seconds since the epoch for created times and file mtimes */
  timestamp?: number;
  /** --layers=false: no step is taken from the cache or recorded in it */
  layers?: boolean;
  /** --squash: the last stage's steps become one layer */
  squash?: boolean;
  /** --from: the first stage's base instead of its FROM's */
  from?: string;
  /** --env KEY=VALUE: set in the built image's config */
  env?: string[];
  /** --ignorefile: instead of the context's .containerignore/.dockerignore */
  ignoreFile?: string;
  /** -o/--output: export the image's files too (build-output.ts) */
  output?: string;
  /** the target platform: --platform, or --os/--arch/--variant */
  platform?: string;
  os?: string;
  arch?: string;
  variant?: string;
  /** --secret id=ID,src=FILE|env=VAR */
  secrets?: string[];
  /** --network: RUN's network unless its own --network says (default: slirp4netns, as podman build) */
  network?: NetworkMode;
  /** for pulling base images */
  creds?: string;
  authfile?: string;
}

/** A RUN step failed: pbuild exits with the command's status, as podman build does. */
export class BuildRunError extends StoreError {
  readonly exitCode: number;
  constructor(message: string, exitCode: number) {
    super(message, 'PKIT_BUILD_RUN');
    this.exitCode = exitCode;
  }
}

function bad(message: string): StoreError {
  return new StoreError(message, 'PKIT_BAD_INPUT');
}

/**
 * The Containerfile's text, the name errors use and its path: -f FILE (relative to the current
 * directory, else to the context, as buildah), -f - (stdin), else CONTEXT's Containerfile or
 * Dockerfile.
 */
function readContainerfile(contextDir: string, file: string | undefined): { text: string; name: string; path?: string } {
  if (file === '-') return { text: readFileSync(0, 'utf8'), name: 'stdin' };
  const path =
    file !== undefined
      ? [resolve(file), resolve(contextDir, file)].find((p) => existsSync(p)) ?? resolve(file)
      : ['Containerfile', 'Dockerfile'].map((n) => join(contextDir, n)).find((p) => existsSync(p));
  if (path === undefined) throw bad(`no Containerfile or Dockerfile in ${contextDir}: give one with -f FILE`);
  try {
    return { text: readFileSync(path, 'utf8'), name: basename(path), path };
  } catch (err) {
    throw bad(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

/** --build-arg-file: NAME=VALUE lines, blank lines and # comments skipped (buildah's format). */
export function readBuildArgFiles(files: readonly string[]): string[] {
  return files.flatMap((f) => {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (err) {
      throw bad(`--build-arg-file ${f}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  });
}

/** --timestamp, else $SOURCE_DATE_EPOCH (reproducible builds' convention), else none. */
export function timestamp(flag: number | undefined): number | undefined {
  if (flag !== undefined) return flag;
  const env = process.env['SOURCE_DATE_EPOCH'];
  if (env === undefined || env === '') return undefined;
  if (!/^\d+$/.test(env)) throw bad(`SOURCE_DATE_EPOCH="${env}": expected seconds since the epoch`);
  return Number(env);
}

/** --build-arg NAME=VALUE; NAME alone takes the value from our environment (podman). */
function parseBuildArgs(values: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq === 0) throw bad(`--build-arg ${v}: expected NAME=VALUE`);
    if (eq > 0) out.set(v.slice(0, eq), v.slice(eq + 1));
    else if (process.env[v] !== undefined) out.set(v, process.env[v]!);
  }
  return out;
}

/** --platform OS/ARCH[/VARIANT], or --os/--arch/--variant over this machine's: the target. */
function targetPlatform(req: BuildRequest): Platform {
  if (req.platform !== undefined) return parsePlatform(req.platform);
  const host = hostPlatform();
  const arch = req.arch ?? host.architecture;
  return parsePlatform(`${req.os ?? host.os}/${arch}${req.variant ? `/${req.variant}` : arch === host.architecture && host.variant ? `/${host.variant}` : ''}`);
}

/** What every step of one build shares. */
interface Build {
  req: BuildRequest;
  store: Store;
  cf: Containerfile;
  buildArgs: Map<string, string>;
  contextDir: string;
  /** the context's .containerignore/.dockerignore (or --ignorefile) */
  ignore: PathMatcher;
  /** a private temp dir: heredoc sources are written there */
  scratch: string;
  /** the image each built stage ended with */
  stageImage: Map<number, string>;
  /** the ARG scope each built stage ended with (a stage FROM it inherits it) */
  stageScope: Map<number, StageArgs>;
  say: (line: string) => void;
  step: number;
  total: number;
  /** --platform (default: this machine's) */
  target: Platform;
  /** the working containers to remove when the build is interrupted */
  guard: InterruptGuard;
  /** --secret: what RUN --mount=type=secret can mount (never part of a cache key) */
  secrets: Map<string, BuildSecret>;
}

type Containerfile = ReturnType<typeof parseContainerfile>;

export async function buildAction(req: BuildRequest): Promise<string> {
  if (req.context !== '-') {
    const contextDir = resolve(req.context);
    if (!existsSync(contextDir) || !statSync(contextDir).isDirectory()) throw bad(`build context ${req.context}: not a directory`);
    return buildIn(req, contextDir);
  }
  // `pbuild build -`: the context is a tar (or a lone Containerfile) on stdin
  if (req.file === '-') throw bad('the build context and the Containerfile cannot both come from stdin: give -f FILE or a context directory');
  const { stdinContext } = await import('../context/stdin-context.ts');
  const sc = await stdinContext();
  try {
    return await buildIn(req, sc.dir);
  } finally {
    sc.cleanup();
  }
}

async function buildIn(req: BuildRequest, contextDir: string): Promise<string> {
  const output = req.output !== undefined ? parseOutput(req.output) : undefined;
  const { text, name, path } = readContainerfile(contextDir, req.file);
  const ignore = loadIgnore(contextDir, { ...(req.ignoreFile !== undefined ? { ignoreFile: req.ignoreFile } : {}), ...(path !== undefined ? { containerfile: path } : {}) });
  const buildArgs = parseBuildArgs(req.buildArgs);
  const target = targetPlatform(req);
  const cf = parseContainerfile(text, { file: name, buildArgs, platform: { target } });
  // --from IMAGE replaces the first stage's base (buildah's --from).
  if (req.from !== undefined) cf.stages[0]!.base = req.from === 'scratch' ? { kind: 'scratch' } : { kind: 'image', ref: req.from };
  const needed = stagesForTarget(cf, req.target);
  const bases = needed.flatMap((i) => {
    const st = cf.stages[i]!;
    return st.base.kind === 'image' ? [{ ref: st.base.ref, platform: st.platform !== undefined ? parsePlatform(st.platform) : target }] : [];
  });
  await pullBaseImages(bases, req);
  const store = openStore(req.root);
  const b: Build = {
    req,
    store,
    cf,
    buildArgs,
    contextDir,
    ignore,
    scratch: mkdtempSync(join(tmpdir(), 'pbuild-')),
    stageImage: new Map(),
    stageScope: new Map(),
    say: (line) => {
      // with the image's files going to stdout (-o -), the progress goes to stderr
      if (!req.quiet) (output?.dest === '-' ? process.stderr : process.stdout).write(`${line}\n`);
    },
    step: 0,
    target,
    secrets: parseSecrets(req.secrets ?? []),
    guard: guardInterrupts(store),
    total: needed.reduce((n, i) => n + 1 + cf.stages[i]!.instructions.length, 0),
  };
  try {
    let finalId = '';
    for (const idx of needed) finalId = await buildStage(b, idx, idx === needed.at(-1));
    const id = finalId.slice('sha256:'.length);
    if (output) await exportImage(store, finalId, output);
    for (const t of req.tags.slice(1)) await store.images.tag(localImageName(t), finalId as never);
    b.say(`--> ${id.slice(0, 11)}`);
    const unused = unusedBuildArgs(buildArgs, [...cf.globalArgs, ...needed.flatMap((i) => cf.stages[i]!.instructions.filter((x): x is ArgInstruction => x.kind === 'ARG'))]);
    if (unused.length) b.say(`[Warning] one or more build args were not consumed: [${unused.join(' ')}]`);
    for (const t of req.tags) b.say(`Successfully tagged ${localImageName(t)}`);
    if (req.iidfile !== undefined) writeFileSync(req.iidfile, finalId);
    return id;
  } finally {
    b.guard.dispose();
    rmSync(b.scratch, { recursive: true, force: true });
    store.close();
  }
}

/** One stage: its steps from its base image; returns the image it ends with. */
async function buildStage(b: Build, idx: number, lastStage: boolean): Promise<string> {
  const stage = b.cf.stages[idx]!;
  b.say(`STEP ${++b.step}/${b.total}: ${stage.from.source}`);
  const inherited = stage.base.kind === 'stage' ? b.stageScope.get(stage.base.index) : undefined;
  let image: string;
  let comment: string;
  if (stage.base.kind === 'scratch') {
    image = await scratchImage(b.store, stage.platform !== undefined ? parsePlatform(stage.platform) : b.target);
    comment = 'FROM scratch';
  } else if (stage.base.kind === 'stage') {
    image = b.stageImage.get(stage.base.index)!;
    comment = `FROM ${image.slice('sha256:'.length, 'sha256:'.length + 12)}`;
  } else {
    image = (await findImage(b.store, stage.base.ref)).id;
    comment = `FROM ${localImageName(stage.base.ref)}`;
  }
  const args = stageArgs(b.cf.globalValues, b.buildArgs, inherited);
  // The base image's ONBUILD triggers run first, as steps of their own (buildah counts them
  // in the total); they are not passed on to this stage's images.
  const triggers = ((await readImageConfig(b.store, image as never)).config?.OnBuild ?? []).map((t) => parseTrigger(t, { file: `ONBUILD of ${stage.from.image}` }));
  b.total += triggers.length;
  const steps: Instruction[] = [...triggers, ...stage.instructions];
  if (lastStage && b.req.squash) image = await squashedStage(b, image, comment, steps, args);
  else for (const [i, instr] of steps.entries()) {
    b.say(`STEP ${++b.step}/${b.total}: ${instr.source}`);
    const final = lastStage && i === steps.length - 1;
    image = await buildStep(b, { parent: image, comment, instr, args, final, dropOnBuild: i === 0 && triggers.length > 0 });
    comment = `FROM ${image.slice('sha256:'.length, 'sha256:'.length + 12)}`;
    if (!final) b.say(`--> ${image.slice('sha256:'.length, 'sha256:'.length + 11)}`);
  }
  if (lastStage && steps.length === 0) {
    b.say(`COMMIT ${b.req.tags[0] ?? ''}`.trimEnd());
    if (b.req.tags[0] !== undefined) await b.store.images.tag(localImageName(b.req.tags[0]), image as never);
  }
  b.stageImage.set(idx, image);
  b.stageScope.set(idx, args);
  return image;
}

interface Step {
  /** the image the step starts from */
  parent: string;
  /** its history comment: "FROM <parent>" */
  comment: string;
  instr: Instruction;
  args: StageArgs;
  /** the build's last step: it gets the tag, the labels, the annotations and the format */
  final: boolean;
  /** the stage's first step after its base's ONBUILD triggers ran: its image has none */
  dropOnBuild: boolean;
}

/** One instruction: from the cache, or run; returns the image it made. */
async function buildStep(b: Build, s: Step): Promise<string> {
  const { store, req } = b;
  const parentConfig = await readImageConfig(store, s.parent as never);
  const env = envMap(parentConfig.config?.Env);
  // ENV wins over ARG of the same name (the reference); both are visible to expansion.
  const lookup = (n: string) => env.get(n) ?? s.args.values.get(n);
  if (s.instr.kind === 'ARG') s.args.declare(s.instr, lookup);
  const x = s.instr.kind === 'ARG' ? s.instr : expandInstruction(s.instr, lookup);
  const from = x.kind === 'COPY' && x.from !== undefined ? await copyFromImage(b, x.from, x) : undefined;
  // RUN --mount=from=...: the images it mounts are inputs of the step
  const mountFroms = x.kind === 'RUN' ? await Promise.all(x.mounts.flatMap((m) => (m.from !== undefined && m.type !== 'cache' ? [mountFromImage(b, m.from, x)] : []))) : [];
  const context = readsContext(x) ? await contextRead(b, x) : undefined;
  const output = {
    timestamp: req.timestamp ?? null,
    ...(x.kind === 'RUN' ? { network: x.network ?? req.network ?? 'default' } : {}),
    dropOnBuild: s.dropOnBuild,
    ...(s.final ? { format: req.format ?? 'oci', edits: finalChanges(req), annotations: req.annotations ?? [] } : {}),
  };
  const key = cacheable(x)
    ? stepKey({
        parent: s.parent,
        instruction: x,
        ...(x.kind === 'RUN' || x.kind === 'ARG' ? { args: new Map([...s.args.values, ...s.args.proxyEnv()]) } : {}),
        ...(context !== undefined ? { context } : {}),
        ...(from !== undefined ? { from } : {}),
        ...(mountFroms.length ? { mounts: mountFroms } : {}),
        output,
      })
    : undefined;
  const useCache = !req.noCache && req.layers !== false;
  const hit = key !== undefined && useCache ? readEntry(store.paths.root, key) : undefined;
  if (hit && (await store.images.get(hit.image as never))) {
    b.say(`--> Using cache ${hit.image.slice('sha256:'.length)}`);
    if (s.final) await finish(b, hit.image);
    return hit.image;
  }
  const shell = (parentConfig.config as { Shell?: string[] } | undefined)?.Shell ?? DEFAULT_SHELL;
  const format = s.final ? req.format ?? 'oci' : 'docker';
  const timestamp = req.timestamp;
  const annotations = s.final ? keyValues(req.annotations ?? []) : undefined;
  const finalEdits = s.final ? finalChanges(req) : [];
  const configEdits = (wc: WorkingConfig): WorkingConfig => {
    const next = applyConfigChanges(wc, finalEdits);
    if (s.dropOnBuild) delete next.config.OnBuild;
    return next;
  };
  let image: string;
  if (x.kind === 'RUN' || x.kind === 'COPY' || x.kind === 'ADD') {
    image = await withWorking(b, s.parent, async (rec) => {
      const createdBy = await fileStep(b, rec, x, s.args, env, shell, from);
      const after = (await store.containers.get(rec.id)) ?? rec;
      const saved = await saveWorkingConfig(store, after, configEdits(await readWorkingConfig(store, after)));
      if (s.final) b.say(`COMMIT ${req.tags[0] ?? ''}`.trimEnd());
      const made = await commit(store, saved, s.final ? req.tags[0] : undefined, {
        createdBy,
        comment: s.comment,
        format,
        ...(timestamp !== undefined ? { timestamp } : {}),
        ...(annotations ? { annotations } : {}),
      });
      return made.id;
    });
  } else {
    const changes = x.kind === 'ARG' ? [] : configChanges(x, shell);
    if (changes === undefined) throw bad(`${x.loc.file}:${x.loc.line}: ${x.kind} is not supported by pbuild build yet`);
    const wc = configEdits(applyConfigChanges(initialWorkingConfig(parentConfig), changes));
    if (s.final) b.say(`COMMIT ${req.tags[0] ?? ''}`.trimEnd());
    const made = await store.write(() =>
      writeImage(store, {
        parent: s.parent,
        wc,
        history: { createdBy: `/bin/sh -c #(nop) ${x.source}`, comment: s.comment },
        format,
        ...(timestamp !== undefined ? { timestamp } : {}),
        ...(annotations ? { annotations } : {}),
        ...(s.final && req.tags[0] !== undefined ? { tag: req.tags[0] } : {}),
      }),
    );
    image = made.id;
  }
  if (key !== undefined && req.layers !== false) writeEntry(store.paths.root, key, { image });
  return image;
}

/**
 * --squash: the last stage's steps all run in one working container and are committed as one
 * layer over its base (podman build --squash); each step still has its history entry. No step
 * is taken from the cache or recorded in it.
 */
async function squashedStage(b: Build, base: string, comment: string, steps: Instruction[], args: StageArgs): Promise<string> {
  const { store, req } = b;
  return withWorking(b, base, async (rec) => {
    // the record as the last step left it (it keeps the image config the steps change)
    const current = async () => (await store.containers.get(rec.id)) ?? rec;
    const done: string[] = [];
    const baseOnBuild = (await readWorkingConfig(store, rec)).config.OnBuild?.length;
    for (const instr of steps) {
      b.say(`STEP ${++b.step}/${b.total}: ${instr.source}`);
      const wc = await readWorkingConfig(store, await current());
      const env = envMap(wc.config.Env);
      const lookup = (n: string) => env.get(n) ?? args.values.get(n);
      if (instr.kind === 'ARG') args.declare(instr, lookup);
      const x = instr.kind === 'ARG' ? instr : expandInstruction(instr, lookup);
      const shell = (wc.config as { Shell?: string[] }).Shell ?? DEFAULT_SHELL;
      if (x.kind === 'RUN' || x.kind === 'COPY' || x.kind === 'ADD') {
        const from = x.kind === 'COPY' && x.from !== undefined ? await copyFromImage(b, x.from, x) : undefined;
        done.push(await fileStep(b, await current(), x, args, env, shell, from));
        continue;
      }
      const changes = x.kind === 'ARG' ? [] : configChanges(x, shell);
      if (changes === undefined) throw bad(`${x.loc.file}:${x.loc.line}: ${x.kind} is not supported by pbuild build yet`);
      await saveWorkingConfig(store, await current(), applyConfigChanges(wc, changes));
      done.push(`/bin/sh -c #(nop) ${x.source}`);
    }
    const wc = applyConfigChanges(await readWorkingConfig(store, await current()), finalChanges(req));
    if (baseOnBuild) delete wc.config.OnBuild;
    const saved = await saveWorkingConfig(store, await current(), wc);
    b.say(`COMMIT ${req.tags[0] ?? ''}`.trimEnd());
    const annotations = keyValues(req.annotations ?? []);
    const made = await commit(store, saved, req.tags[0], {
      createdBy: done.at(-1) ?? 'pbuild build --squash',
      comment,
      folded: done.slice(0, -1),
      format: req.format ?? 'oci',
      ...(req.timestamp !== undefined ? { timestamp: req.timestamp } : {}),
      ...(annotations ? { annotations } : {}),
    });
    return made.id;
  });
}

/** A working container on `image` for `fn`, removed afterwards (also when the build is interrupted). */
async function withWorking<T>(b: Build, image: string, fn: (rec: ContainerRecord) => Promise<T>): Promise<T> {
  const rec = await findWorking(b.store, await fromImage(b.store, image));
  b.guard.hold(rec);
  try {
    return await fn(rec);
  } finally {
    await removeWorking(b.store, rec);
    b.guard.release(rec);
  }
}

/** A cached last step: the build's output is that image, tagged. */
async function finish(b: Build, image: string): Promise<void> {
  b.say(`COMMIT ${b.req.tags[0] ?? ''}`.trimEnd());
  if (b.req.tags[0] !== undefined) await b.store.images.tag(localImageName(b.req.tags[0]), image as never);
}

/** What --label and --env change in the built image's config. */
function finalChanges(req: BuildRequest): ConfigChange[] {
  return [
    ...req.labels.map((l) => ({ kind: 'label' as const, ...keyValue(l) })),
    ...(req.env ?? []).map((e) => {
      const { key, value } = keyValue(e);
      // --env NAME alone takes the value from our environment, as podman
      return { kind: 'env' as const, key, value: e.includes('=') ? value : (process.env[key] ?? '') };
    }),
  ];
}

function keyValue(kv: string): { key: string; value: string } {
  const eq = kv.indexOf('=');
  return { key: eq < 0 ? kv : kv.slice(0, eq), value: eq < 0 ? '' : kv.slice(eq + 1) };
}

function keyValues(list: readonly string[]): Record<string, string> | undefined {
  if (!list.length) return undefined;
  return Object.fromEntries(list.map((kv) => { const { key, value } = keyValue(kv); return [key, value]; }));
}

/** The content digest of the context files a step reads (COPY/ADD sources, RUN bind mounts). */
async function contextRead(b: Build, x: Instruction): Promise<string> {
  if (x.kind === 'RUN') {
    const binds = x.mounts.filter((m) => m.type === 'bind' && m.from === undefined).map((m) => m.source ?? '.');
    return sourcesDigest(b.contextDir, binds);
  }
  if (x.kind !== 'COPY' && x.kind !== 'ADD') return '';
  const paths = x.sources.flatMap((s) => (s.kind === 'path' ? [s.path] : []));
  return sourcesDigest(b.contextDir, paths, { ignore: b.ignore, excludes: x.excludes, parents: x.kind === 'COPY' && x.parents, add: x.kind === 'ADD' });
}

/** The image RUN --mount=from= reads (a stage or an image, as COPY --from). */
function mountFromImage(b: Build, name: string, x: Instruction): Promise<string> {
  return copyFromImage(b, name, x);
}

/** The image COPY --from reads: a stage built before this one, else an image of the store. */
async function copyFromImage(b: Build, name: string, x: Instruction): Promise<string> {
  const byName = b.cf.stages.find((st) => st.name === name.toLowerCase());
  const byIndex = /^\d+$/.test(name) ? b.cf.stages[Number(name)] : undefined;
  const st = byName ?? byIndex;
  if (st) {
    const id = b.stageImage.get(st.index);
    if (id === undefined) throw bad(`${x.loc.file}:${x.loc.line}: COPY --from=${name}: that stage is not built before this one`);
    return id;
  }
  return (await findImage(b.store, name)).id;
}

/** RUN, COPY or ADD in the step's working container; returns the history's created_by. */
async function fileStep(b: Build, rec: ContainerRecord, x: Instruction, args: StageArgs, env: Map<string, string>, shell: string[], from: string | undefined): Promise<string> {
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
      resolveFrom: (from) => mountFromImage(b, from, x),
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
  // Inline files (COPY <<EOF dest) are written to the scratch dir and copied from there.
  const heredocs = x.sources.filter((s) => s.kind === 'heredoc');
  if (heredocs.length && heredocs.length !== x.sources.length) throw bad(`${x.loc.file}:${x.loc.line}: mixing heredoc and path sources is not supported yet`);
  const dir = heredocs.length ? mkdtempSync(join(b.scratch, 'heredoc-')) : undefined;
  const sources = x.sources.map((s) => {
    if (s.kind === 'path') return s.path;
    writeFileSync(join(dir!, s.heredoc.name), s.heredoc.content);
    return s.heredoc.name;
  });
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
