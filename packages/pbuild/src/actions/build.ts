// `pbuild build`: a Containerfile built stage by stage through the step-by-step verbs. Each
// needed stage gets a working container from its base (an image, or the image of an earlier
// stage); RUN runs in it, COPY/ADD copy into it, the metadata instructions change its image
// config; the stage ends with one commit (one layer per stage, so the cache is per stage too:
// build-cache.ts; per-step layers are issue 6's next step, see docs/cli.md).
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join, resolve } from 'node:path';
import { StoreError } from '@pkit/storage/errors';
import { findImage, localImageName } from '@pkit/storage/image-lookup';
import type { Store } from '@pkit/storage/store';
import type { ContainerRecord } from '@pkit/storage/container-store';
import {
  expandInstruction,
  parseContainerfile,
  runArgv,
  stageArgs,
  stagesForTarget,
  type Instruction,
  type StageArgs,
} from '../containerfile/index.ts';
import { applyConfigChanges, readWorkingConfig, saveWorkingConfig, type ConfigChange } from './config.ts';
import { cacheable, contextDigest, readEntry, readsContext, stageKey, writeEntry } from './build-cache.ts';
import { copyInto } from './copy.ts';
import { commit, ensureWorkingDir, findWorking, fromImage, openStore, removeWorking, runIn } from './working.ts';

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
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];

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

/** The Containerfile's text and the name errors use: -f FILE, -f - (stdin), else CONTEXT's. */
function readContainerfile(contextDir: string, file: string | undefined): { text: string; name: string } {
  if (file === '-') return { text: readFileSync(0, 'utf8'), name: 'stdin' };
  const path = file !== undefined ? resolve(file) : ['Containerfile', 'Dockerfile'].map((n) => join(contextDir, n)).find((p) => existsSync(p));
  if (path === undefined) throw bad(`no Containerfile or Dockerfile in ${contextDir}: give one with -f FILE`);
  try {
    return { text: readFileSync(path, 'utf8'), name: basename(path) };
  } catch (err) {
    throw bad(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
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

function envMap(env: readonly string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const eq = e.indexOf('=');
    if (eq > 0) m.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return m;
}

/** A command-form value (CMD, ENTRYPOINT) as the config stores it. */
function commandOf(c: { form: 'exec'; args: string[] } | { form: 'shell'; text: string }, shell: string[]): string[] {
  return c.form === 'exec' ? c.args : [...shell, c.text];
}

/** What a metadata instruction changes in the image config; undefined for the others. */
function configChanges(x: Instruction, shell: string[]): ConfigChange[] | undefined {
  switch (x.kind) {
    case 'ENV': return x.env.map((kv) => ({ kind: 'env' as const, key: kv.key, value: kv.value }));
    case 'WORKDIR': return [{ kind: 'workingdir', value: x.path }];
    case 'USER': return [{ kind: 'user', value: x.user }];
    case 'CMD': return [{ kind: 'cmd', value: commandOf(x.command, shell) }];
    case 'ENTRYPOINT': return [{ kind: 'entrypoint', value: commandOf(x.command, shell) }];
    case 'LABEL': return x.labels.map((kv) => ({ kind: 'label' as const, key: kv.key, value: kv.value }));
    case 'EXPOSE': return x.ports.map((p) => ({ kind: 'port' as const, value: p }));
    case 'VOLUME': return x.volumes.map((v) => ({ kind: 'volume' as const, value: v }));
    case 'STOPSIGNAL': return [{ kind: 'stopsignal', value: x.signal }];
    case 'SHELL': return [{ kind: 'shell', value: x.shell }];
    case 'ONBUILD': return [{ kind: 'onbuild', value: x.expression }];
    case 'MAINTAINER': return [{ kind: 'author', value: x.maintainer }];
    case 'HEALTHCHECK':
      return [{
        kind: 'healthcheck',
        value: {
          Test: x.test,
          ...(x.interval !== undefined ? { Interval: x.interval } : {}),
          ...(x.timeout !== undefined ? { Timeout: x.timeout } : {}),
          ...(x.startPeriod !== undefined ? { StartPeriod: x.startPeriod } : {}),
          ...(x.retries !== undefined ? { Retries: x.retries } : {}),
        },
      }];
    default: return undefined;
  }
}

/** The --pull policy: always, missing (the default) or never ("true"/"false" as podman). */
function pullPolicy(req: BuildRequest): 'always' | 'missing' | 'never' {
  if (req.pull === 'true' || req.pull === 'always') return 'always';
  if (req.pull === 'never') return 'never';
  return 'missing';
}

/**
 * Pulls the base images the needed stages name, as --pull wants, before the build opens the
 * store (the pull opens it itself, with the rootless hooks).
 */
async function pullBaseImages(refs: string[], req: BuildRequest): Promise<void> {
  const policy = pullPolicy(req);
  if (policy === 'never') return;
  for (const ref of new Set(refs)) {
    if (policy === 'missing') {
      const store = openStore(req.root);
      try {
        await findImage(store, ref);
        continue;
      } catch (err) {
        if (!(err instanceof StoreError) || err.code !== 'PKIT_NOT_FOUND') throw err;
      } finally {
        store.close();
      }
    }
    const { pullImages } = await import('@pkit/cli-common/pull');
    await pullImages({ root: req.root, image: ref, quiet: req.quiet, tlsVerify: req.tlsVerify }, openStore);
  }
}

export async function buildAction(req: BuildRequest): Promise<string> {
  const contextDir = resolve(req.context);
  if (!existsSync(contextDir) || !statSync(contextDir).isDirectory()) throw bad(`build context ${req.context}: not a directory`);
  const { text, name } = readContainerfile(contextDir, req.file);
  const buildArgs = parseBuildArgs(req.buildArgs);
  const cf = parseContainerfile(text, { file: name, buildArgs });
  const needed = stagesForTarget(cf, req.target);
  const total = needed.reduce((n, i) => n + 1 + cf.stages[i]!.instructions.length, 0);
  await pullBaseImages(needed.flatMap((i) => { const b = cf.stages[i]!.base; return b.kind === 'image' ? [b.ref] : []; }), req);
  const say = (line: string) => {
    if (!req.quiet) process.stdout.write(`${line}\n`);
  };
  const labels = req.labels.map((l) => {
    const eq = l.indexOf('=');
    return { kind: 'label' as const, key: eq < 0 ? l : l.slice(0, eq), value: eq < 0 ? '' : l.slice(eq + 1) };
  });
  const store = openStore(req.root);
  const stageImage = new Map<number, string>();
  const stageScope = new Map<number, StageArgs>();
  const scratch = mkdtempSync(join(tmpdir(), 'pbuild-'));
  let step = 0;
  let finalId = '';
  try {
    let context: string | undefined;
    for (const idx of needed) {
      const stage = cf.stages[idx]!;
      const last = idx === needed.at(-1);
      say(`STEP ${++step}/${total}: ${stage.from.source}`);
      if (stage.base.kind === 'scratch') throw bad(`${cf.file}:${stage.from.loc.line}: FROM scratch is not supported yet: start from an image`);
      const base = stage.base.kind === 'stage' ? stageImage.get(stage.base.index)! : (await findImage(store, stage.base.ref)).id;
      const inherited = stage.base.kind === 'stage' ? stageScope.get(stage.base.index) : undefined;
      // The stage's cache key: everything its result depends on (build-cache.ts).
      let key: string | undefined;
      if (cacheable(stage.instructions)) {
        if (readsContext(stage.instructions)) context ??= await contextDigest(contextDir);
        key = stageKey({
          base,
          instructions: stage.instructions,
          buildArgs,
          globals: cf.globalValues,
          inherited: inherited ? [...inherited.values] : [],
          froms: [...stageImage].map(([i, id]) => `${i}=${id}`),
          labels: last ? req.labels : [],
          ...(readsContext(stage.instructions) && context !== undefined ? { context } : {}),
        });
      }
      const hit = key !== undefined && !req.noCache ? readEntry(store.paths.root, key) : undefined;
      if (hit && (await store.images.get(hit.image as never).catch(() => undefined))) {
        for (const instr of stage.instructions) say(`STEP ${++step}/${total}: ${instr.source}`);
        say(`--> Using cache ${hit.image.slice('sha256:'.length)}`);
        const args = stageArgs(cf.globalValues, buildArgs);
        for (const [k, v] of hit.argValues) args.values.set(k, v);
        for (const k of hit.declared) args.declared.add(k);
        stageImage.set(idx, hit.image);
        stageScope.set(idx, args);
        if (last) {
          finalId = hit.image.slice('sha256:'.length);
          if (req.tags[0] !== undefined) await store.images.tag(localImageName(req.tags[0]), hit.image as never);
          say(`COMMIT ${req.tags[0] ?? ''}`.trimEnd());
        }
        continue;
      }
      const rec = await findWorking(store, await fromImage(store, base));
      const args = stageArgs(cf.globalValues, buildArgs, inherited);
      try {
        for (const instr of stage.instructions) {
          say(`STEP ${++step}/${total}: ${instr.source}`);
          await buildStep(store, rec, instr, args, { contextDir, scratch, stageImage, cf, step });
        }
        const done = (await store.containers.get(rec.id)) ?? rec;
        if (last && labels.length) await saveWorkingConfig(store, done, applyConfigChanges(await readWorkingConfig(store, done), labels));
        if (last) say(`COMMIT ${req.tags[0] ?? ''}`.trimEnd());
        const image = await commit(store, (await store.containers.get(rec.id)) ?? done, last ? req.tags[0] : undefined, { createdBy: stage.instructions.at(-1)?.source ?? stage.from.source, format: 'docker' });
        stageImage.set(idx, image.id);
        stageScope.set(idx, args);
        if (key !== undefined) writeEntry(store.paths.root, key, { image: image.id, argValues: [...args.values], declared: [...args.declared] });
        if (last) finalId = image.id.slice('sha256:'.length);
      } finally {
        await removeWorking(store, rec);
      }
    }
    for (const t of req.tags.slice(1)) await store.images.tag(localImageName(t), `sha256:${finalId}` as never);
    say(`--> ${finalId.slice(0, 12)}`);
    for (const t of req.tags) say(`Successfully tagged ${localImageName(t)}`);
    if (req.iidfile !== undefined) writeFileSync(req.iidfile, `sha256:${finalId}`);
    return finalId;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    store.close();
  }
}

interface StepContext {
  contextDir: string;
  /** a private temp dir: heredoc sources are written there */
  scratch: string;
  stageImage: Map<number, string>;
  cf: ReturnType<typeof parseContainerfile>;
  step: number;
}

/** One instruction in the stage's working container. */
async function buildStep(store: Store, stale: ContainerRecord, instr: Instruction, args: StageArgs, ctx: StepContext): Promise<void> {
  // The record as the previous step left it (its image config changes with the steps).
  const rec = (await store.containers.get(stale.id)) ?? stale;
  const wc = await readWorkingConfig(store, rec);
  const env = envMap(wc.config.Env);
  // ENV wins over ARG of the same name (the reference); both are visible to expansion.
  const lookup = (n: string) => env.get(n) ?? args.values.get(n);
  if (instr.kind === 'ARG') {
    args.declare(instr, lookup);
    return;
  }
  const x = expandInstruction(instr, lookup);
  const shell = (wc.config as { Shell?: string[] }).Shell ?? DEFAULT_SHELL;
  const changes = configChanges(x, shell);
  if (changes) {
    const next = applyConfigChanges(wc, changes);
    const saved = await saveWorkingConfig(store, rec, next);
    // WORKDIR makes the directory, as docker and buildah do (COPY into "." needs it).
    if (x.kind === 'WORKDIR' && next.config.WorkingDir) await ensureWorkingDir(store, saved, next.config.WorkingDir);
    return;
  }
  if (x.kind === 'RUN') {
    const { argv, script } = runArgv(x, shell);
    if (script) throw bad(`${x.loc.file}:${x.loc.line}: a RUN heredoc with a #! script is not supported yet`);
    // ARG values are the RUN's environment, below the image's ENV.
    const argEnv = [...args.values, ...args.proxyEnv()].filter(([k]) => !env.has(k)).map(([k, v]) => `${k}=${v}`);
    const code = await runIn(store, rec, argv, { env: argEnv });
    if (code !== 0) throw new BuildRunError(`building at STEP "${x.source}": while running runtime: exit status ${code}`, code);
    return;
  }
  if (x.kind === 'COPY' || x.kind === 'ADD') {
    // Inline files (COPY <<EOF dest) are written to the scratch dir and copied from there.
    const heredocs = x.sources.filter((s) => s.kind === 'heredoc');
    if (heredocs.length && heredocs.length !== x.sources.length) throw bad(`${x.loc.file}:${x.loc.line}: mixing heredoc and path sources is not supported yet`);
    const sources = x.sources.map((s, i) => {
      if (s.kind === 'path') return s.path;
      const dir = join(ctx.scratch, `heredoc-${ctx.step}-${i}`);
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, s.heredoc.name), s.heredoc.content);
      return `heredoc-${ctx.step}-${i}/${s.heredoc.name}`;
    });
    let from: string | undefined;
    if (x.kind === 'COPY' && x.from !== undefined) {
      const byName = ctx.cf.stages.find((s) => s.name === x.from!.toLowerCase());
      const byIndex = /^\d+$/.test(x.from) ? ctx.cf.stages[Number(x.from)] : undefined;
      const st = byName ?? byIndex;
      from = st ? ctx.stageImage.get(st.index) : x.from;
      if (st && from === undefined) throw bad(`${x.loc.file}:${x.loc.line}: COPY --from=${x.from}: that stage is not built before this one`);
    }
    await copyInto(store, rec, sources, x.dest, {
      contextDir: heredocs.length ? ctx.scratch : ctx.contextDir,
      ...(x.chown !== undefined ? { chown: x.chown } : {}),
      ...(x.chmod !== undefined ? { chmod: x.chmod } : {}),
      ...(from !== undefined ? { from } : {}),
      ...(x.kind === 'ADD' ? { add: true } : {}),
    });
    return;
  }
  throw bad(`${instr.loc.file}:${instr.loc.line}: ${instr.kind} is not supported by pbuild build yet`);
}
