// buildah's working containers for pbuild's step-by-step verbs (from, run, commit, rm,
// containers). A working container is a container record of the shared store marked
// `builder: true` (prun ps leaves them out, as podman ps leaves out buildah's): its overlay root
// over the image's layers, and an upper dir that `commit` turns into the image's next layer.
// The image config it will commit is kept in the record too (config.ts).
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { StoreError } from '@pkit/storage/errors';
import { findImage, localImageName } from '@pkit/storage/image-lookup';
import { Store } from '@pkit/storage/store';
import type { ContainerRecord } from '@pkit/storage/container-store';
import type { ImageRecord } from '@pkit/storage/image-store';
import { readContainerSpec } from '@pkit/runtime/bundle';
import { containerFiles, overlayDirs, reasons, runScript } from '@pkit/runtime/container-files';
import { createContainer, removeContainer } from '@pkit/runtime/container-run';
import { writeEtcFiles } from '@pkit/runtime/etc-files';
import { computeIDMappings, currentIdmapHost } from '@pkit/runtime/idmap';
import { layerFromUpperDir, upperLayerToolsFrom } from '@pkit/runtime/layer-diff';
import { hostFacts } from '@pkit/runtime/host';
import { resolveContainerUser } from '@pkit/runtime/image-user';
import { networkSetup, networkTools, parseNetwork } from '@pkit/runtime/network';
import type { Mount, Spec } from '@pkit/runtime/oci-spec';
import { buildSpec, type RunOptions } from '@pkit/runtime/spec';
import { useNetwork } from './run-network.ts';
import type { NetworkMode } from '../containerfile/instructions.ts';
import { lookupInLayers } from '@pkit/storage/layers/overlay-lookup';
import { runtimeBinary, startContainer } from '@pkit/runtime/run';
import { rootlessStoreHooksFrom } from '@pkit/runtime/store-hooks';
import { initialWorkingConfig, readWorkingConfig } from './config.ts';
import { hostPlatform } from '../containerfile/index.ts';
import { scratchImage, writeImage, type ImageFormat } from './image-write.ts';

const tools = () => upperLayerToolsFrom(import.meta.url);

/** The store with the rootless hooks: layers keep their owners, and can be removed again. */
export function openStore(root: string | undefined): Store {
  return Store.open({ root, ...rootlessStoreHooksFrom(import.meta.url) });
}

export function helper(): string {
  const h = tools().helper;
  if (!h) throw new StoreError('pkit-runtime is not built: run "pnpm install" in the pkit repository', 'PKIT_RUNTIME');
  return h;
}

/** buildah's names: IMAGE-working-container, then -1, -2, ... when taken. */
async function freeName(store: Store, image: string): Promise<string> {
  // buildah: "working-container" for scratch
  const base = image === '' ? 'working-container' : `${basename(image.replace(/[@:][^/]*$/, '')).replace(/[^a-zA-Z0-9_.-]/g, '_')}-working-container`;
  const taken = new Set((await store.containers.list()).map((c) => c.name));
  if (!taken.has(base)) return base;
  for (let i = 1; ; i++) if (!taken.has(`${base}-${i}`)) return `${base}-${i}`;
}

export function isWorking(rec: ContainerRecord): boolean {
  return rec.config?.['builder'] === true;
}

/** A working container by name or ID; an ordinary container is not one. */
export async function findWorking(store: Store, query: string): Promise<ContainerRecord> {
  const rec = await store.containers.resolve(query);
  if (!isWorking(rec)) throw new StoreError(`"${query}" is a container of prun, not a working container of pbuild`, 'PKIT_NOT_FOUND');
  return rec;
}

/**
 * `pbuild from IMAGE` (or `scratch`: an empty image): returns the new working container's name.
 * `annotateBase`: the image it commits names its base, as buildah's (baseAnnotations).
 */
export async function fromImage(store: Store, from: string, name?: string, opts: { annotateBase?: boolean } = {}): Promise<string> {
  const image = from === 'scratch' ? await scratchImage(store, hostPlatform()) : from;
  const h = helper();
  const idmap = computeIDMappings(currentIdmapHost());
  const network = parseNetwork('slirp4netns');
  const netTools = networkTools({ helper: h });
  const setup = networkSetup(network, [], netTools);
  const create = async (containerName: string) => createContainer(store, {
    image,
    name: containerName,
    idmap,
    run: { args: ['/bin/sh'], network, networkTools: netTools },
    meta: { builder: true },
    prepare: async ({ record, dir }) => ({
      // each `run` resolves the config's USER then (the image's may be a name)
      user: { uid: 0, gid: 0 },
      hostname: record.id.slice(0, 12),
      mounts: await writeEtcFiles(join(dir, 'userdata'), {
        id: record.id,
        name: record.name,
        network: setup.mode,
        ...(setup.nameservers ? { networkNameservers: setup.nameservers } : {}),
        ...(setup.containerIps ? { containerIps: setup.containerIps } : {}),
        ipv6: setup.ipv6,
      }),
    }),
  });
  let created: Awaited<ReturnType<typeof create>>;
  for (let attempt = 1; ; attempt++) {
    try {
      created = await create(name ?? (await freeName(store, from === 'scratch' ? '' : image)));
      break;
    } catch (err) {
      // a name picked while another pbuild claimed it: pick again (a given name is the user's)
      if (name !== undefined || !(err instanceof StoreError) || err.code !== 'PKIT_NAME_IN_USE' || attempt >= 20) throw err;
    }
  }
  const wc = initialWorkingConfig(created.image);
  if (opts.annotateBase && from !== 'scratch') wc.annotations = baseAnnotations(from, await findImage(store, image));
  await store.containers.update(created.record.id, { config: { ...created.record.config, imageConfig: wc } });
  return created.record.name;
}

/**
 * The manifest annotations buildah gives an image built on `ref`: its base's manifest digest
 * and name (OCI format only; the Docker format has no annotations).
 */
export function baseAnnotations(ref: string, base: ImageRecord): Record<string, string> {
  return { 'org.opencontainers.image.base.digest': base.manifestDigest, 'org.opencontainers.image.base.name': localImageName(ref) };
}

/** The container's layer dirs, top first: its upper dir, then its image's layers. */
export function containerLayers(spec: Spec): string[] {
  const { upper, lower } = overlayDirs(spec);
  return [upper, ...lower];
}

/** Makes `dir` (and its parents) in the working container as its root when it is missing. */
export async function ensureWorkingDir(store: Store, rec: ContainerRecord, dir: string): Promise<void> {
  const spec = readContainerSpec(store, rec.id);
  await ensureDir(store, rec, spec, dir);
}

async function ensureDir(store: Store, rec: ContainerRecord, spec: Spec, dir: string): Promise<void> {
  if (dir === '/' || (await lookupInLayers(containerLayers(spec), dir))?.stats.isDirectory()) return;
  const r = await runScript(containerFiles(store, rec, { helper: helper() }), 'mkdir', [dir, '', '']);
  if (r.code !== 0) throw new StoreError(`cannot create the working directory ${dir}: ${reasons(r.stderr).join('; ') || `exit ${r.code}`}`, 'PKIT_CONTAINER');
}

/** What a RUN adds to `pbuild run`'s command for itself alone (run-mounts.ts makes these). */
export interface RunInOptions {
  /** KEY=VALUE entries under the config's own (a build's ARG values for RUN). */
  env?: string[];
  /** KEY=VALUE entries over everything, kept out of the container's saved spec (secrets). */
  privateEnv?: string[];
  /** Mounts for this command only, after the container's own (parents before children). */
  mounts?: Mount[];
  /** RUN --network: default is the container's own network (slirp4netns, as podman build's). */
  network?: NetworkMode;
  /** `pbuild run --user`, `--workingdir`: instead of the image config's */
  user?: string;
  workingDir?: string;
  /** `pbuild run --env`: KEY=VALUE over the image config's Env */
  setEnv?: string[];
}

/**
 * `pbuild run C -- CMD...`: CMD in the working container, with this process's stdio, with the
 * env, user and working dir of its image config as it stands (the working dir made when
 * missing, as buildah). Resolves to CMD's exit code. The container's saved spec gets the
 * process (env and privateEnv aside); mounts, privateEnv and a network other than the default
 * go into a bundle of their own for this command alone (`run/`, beside the saved one).
 */
export async function runIn(store: Store, rec: ContainerRecord, command: string[], opts: RunInOptions = {}): Promise<number> {
  if (command.length === 0) throw new StoreError('"pbuild run" needs a command after the container (pbuild run C -- CMD ...)', 'PKIT_USAGE');
  const dir = store.containers.containerDir(rec.id);
  const specPath = join(dir, 'config.json');
  const spec = readContainerSpec(store, rec.id);
  const wc = await readWorkingConfig(store, rec);
  const idmap = computeIDMappings(currentIdmapHost());
  const user = await resolveContainerUser(containerLayers(spec), opts.user ?? (wc.config.User || undefined), { idmap });
  for (const w of user.warnings) process.stderr.write(`${w}\n`);
  const cwd = opts.workingDir ?? (wc.config.WorkingDir || '/');
  await ensureDir(store, rec, spec, cwd);
  // The process as a container of this config would have it; mounts and the rest stay.
  const runOpts = (rec.config?.['run'] ?? {}) as Omit<RunOptions, 'rootfs' | 'idmap'>;
  const specOpts: RunOptions = {
    ...runOpts,
    args: command,
    entrypoint: [''],
    user: user.user,
    cwd,
    rootfs: spec.root?.path ?? join(dir, 'rootfs'),
    idmap,
    ...(user.home !== undefined ? { home: user.home } : {}),
    ...(spec.hostname !== undefined ? { hostname: spec.hostname } : {}),
  };
  const fresh = buildSpec(wc.config, specOpts, hostFacts());
  const keyOf = (e: string) => e.slice(0, e.indexOf('='));
  const set = new Set((opts.setEnv ?? []).map(keyOf));
  const env = [...fresh.process!.env.filter((e) => !set.has(keyOf(e))), ...(opts.setEnv ?? [])];
  for (const e of opts.env ?? []) if (!env.some((x) => keyOf(x) === keyOf(e))) env.push(e);
  spec.process = { ...fresh.process!, args: command, env };
  writeFileSync(specPath, JSON.stringify(spec));
  let bundle = dir;
  const network = opts.network === 'default' ? undefined : opts.network;
  if (opts.mounts?.length || opts.privateEnv?.length || network) {
    const run = structuredClone(spec);
    const keys = new Set((opts.privateEnv ?? []).map((e) => e.slice(0, e.indexOf('='))));
    run.process.env = [...env.filter((e) => !keys.has(e.slice(0, e.indexOf('=')))), ...(opts.privateEnv ?? [])];
    if (network) await useNetwork(run, rec, network, buildSpec(wc.config, { ...specOpts, network: parseNetwork(network) }, hostFacts()), join(dir, `userdata-${network}`));
    run.mounts = [...run.mounts, ...(opts.mounts ?? [])];
    bundle = join(dir, 'run');
    mkdirSync(bundle, { recursive: true, mode: 0o700 });
    writeFileSync(join(bundle, 'config.json'), JSON.stringify(run), { mode: 0o600 });
  }
  try {
    const runtime = runtimeBinary({ helperPath: helper() });
    const running = startContainer({ runtime, bundle, id: rec.id, root: join(store.paths.runRoot, 'runtime') });
    const r = await running.result;
    if (r.runtimeError) process.stderr.write(`Error: ${r.runtimeError.split('\n').join(' ')}\n`);
    return r.exitCode;
  } finally {
    // it may hold a secret's value
    if (bundle !== dir) rmSync(join(bundle, 'config.json'), { force: true });
  }
}

export interface CommitOptions {
  /** The history entry's created_by (default: the container's --created-by, else "pbuild commit"). */
  createdBy?: string;
  /** The history entry's comment (a build step's "FROM <parent>"). */
  comment?: string;
  /** created_by of the steps this commit folds in before its own (--squash) */
  folded?: string[];
  /** 'docker' keeps SHELL, ONBUILD and HEALTHCHECK in the config; the OCI format drops them (buildah). */
  format?: ImageFormat;
  /** Seconds since the epoch: the image's created time, and every file's mtime in the layer. */
  timestamp?: number;
  annotations?: Record<string, string>;
}

/**
 * `pbuild commit C NAME`: the container's upper dir becomes a new layer on top of its image's;
 * the config is the container's (pbuild config) with the layer and a history entry added.
 * Returns the new image's record.
 */
export async function commit(store: Store, rec: ContainerRecord, name: string | undefined, opts: CommitOptions = {}): Promise<ImageRecord> {
  const wc = await readWorkingConfig(store, rec);
  const top = (await findImage(store, rec.image)).layers.at(-1);
  const upper = join(store.containers.containerDir(rec.id), 'upper');
  return store.write(async () => {
    // Stored uncompressed, as buildah's: a commit is not slowed by gzip, and pushes to a
    // registry or an OCI layout compress on the way (compressesUncompressed).
    const made = await layerFromUpperDir(store, upper, {
      ...tools(),
      compression: 'none',
      register: { parent: top },
      ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp, timestampMode: 'set' as const } : {}),
    });
    return writeImage(store, {
      parent: rec.image,
      wc,
      layer: { diffID: made.diffID, digest: made.digest, size: made.size, mediaType: made.mediaType, chainID: made.layer!.chainID },
      history: { createdBy: opts.createdBy ?? wc.createdBy ?? 'pbuild commit', ...(opts.comment !== undefined ? { comment: opts.comment } : {}) },
      format: opts.format ?? 'oci',
      ...(opts.timestamp !== undefined ? { timestamp: opts.timestamp } : {}),
      ...(opts.annotations ? { annotations: opts.annotations } : {}),
      ...(opts.folded ? { folded: opts.folded } : {}),
      ...(name !== undefined ? { tag: name } : {}),
    });
  });
}

/** `pbuild rm C`: the container's record and directories. */
export async function removeWorking(store: Store, rec: ContainerRecord): Promise<void> {
  await removeContainer(store, rec.id, { helper: helper() });
}
