// The work of `prun run` and `prun create`, loaded only when those commands run: the
// container from the stored image (@pkit/runtime createContainer), then in the foreground
// (run), under the monitor (run -d), or not at all (create).
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ContainerRecord } from '@pkit/storage/container-store';
import { ExitStatusError, StoreError } from '@pkit/storage/errors';
import { lookupInLayers } from '@pkit/storage/layers/overlay-lookup';
import { findImage } from '@pkit/storage/image-lookup';
import { Store } from '@pkit/storage/store';
import { createContainer, readImageConfig, type CreatedContainer } from '@pkit/runtime/container-run';
import { LogWriter } from '@pkit/runtime/detached';
import { validateEtcRequest, writeEtcFiles } from '@pkit/runtime/etc-files';
import { computeIDMappings, currentIdmapHost, parseUsernsMode } from '@pkit/runtime/idmap';
import { resolveContainerUser } from '@pkit/runtime/image-user';
import { runtimeBinary, startContainer } from '@pkit/runtime/run';
import { containerCommand, type RunOptions } from '@pkit/runtime/spec';
import { initVolumes } from '@pkit/runtime/volume-init';
import { baseRunOptions, badInput, parseLabels, type ContainerRequest } from './container-request.ts';
import { parseMountFlags, toMountRequests, volumesToReserve } from './mount-flags.ts';
import { assignHostPorts, checkPublish, networkSetup, networkTools, networkWarnings, parseNetwork, parsePublish } from '@pkit/runtime/network';
import { StderrFilter } from './stderr-filter.ts';
import { engine, logPath, meta, refresh, startInBackground, type ContainerMeta, type Engine } from './containers.ts';

export type { ContainerRequest } from './container-request.ts';

/** Creates the container the request describes; nothing is left behind when it fails. */
export async function createFromRequest(e: Engine, req: ContainerRequest): Promise<CreatedContainer> {
  const run: Omit<RunOptions, 'rootfs' | 'idmap'> = baseRunOptions(req);
  // Everything the user typed is checked before anything is created.
  const plan = parseMountFlags({ volumes: req.volumes, mounts: req.mounts, tmpfs: req.tmpfs });
  for (const w of plan.warnings) process.stderr.write(`${w}\n`);
  // podman's rootless default here is slirp4netns; host ports are picked now (-p 80: random).
  const network = parseNetwork(req.network ?? 'slirp4netns');
  const publish = await assignHostPorts(checkPublish(req.publish.map(parsePublish)));
  for (const w of networkWarnings(network, publish)) process.stderr.write(`${w}\n`);
  run.network = network;
  const ports = network.mode === 'slirp4netns' || network.mode === 'pasta' ? publish : [];
  if (ports.length) run.publish = ports;
  run.networkTools = networkTools({ helper: e.helper });
  const netSetup = networkSetup(network, ports, run.networkTools);
  let usernsMode;
  try {
    usernsMode = parseUsernsMode(req.userns);
  } catch (err) {
    throw badInput((err as Error).message);
  }
  const image = await findImage(e.store, req.image); // unknown image: the lookup's own message
  if (req.init) run.entrypoint = await initEntrypoint(e, image.id, run);
  if (run.resources && !cgroupLimitsWork()) {
    // podman's behaviour here: the limits are dropped with a warning, not refused.
    process.stderr.write('Resource limits are not supported and ignored on cgroups V1 rootless systems\n');
    delete run.resources;
  }
  const idmap = computeIDMappings(currentIdmapHost(), usernsMode);
  const etc = {
    ...(req.hostname !== undefined ? { hostname: req.hostname } : {}),
    network: netSetup.mode,
    ...(netSetup.nameservers ? { networkNameservers: netSetup.nameservers } : {}),
    ...(netSetup.containerIps ? { containerIps: netSetup.containerIps } : {}),
    ipv6: netSetup.ipv6,
    addHosts: req.addHosts,
    dns: req.dns,
    dnsSearch: req.dnsSearch,
    dnsOptions: req.dnsOptions,
  };
  validateEtcRequest({ id: '0'.repeat(64), name: 'x', ...etc });
  // The cidfile is claimed first: an existing one fails before anything is created.
  if (req.cidfile !== undefined) writeCidfile(req.cidfile, '');
  const m: ContainerMeta = {
    ...(req.rm ? { autoRemove: true } : {}),
    ...(req.tty ? { tty: true } : {}),
    ...(req.interactive ? { interactive: true } : {}),
    ...(req.stopSignal !== undefined ? { stopSignal: req.stopSignal } : {}),
    ...(req.stopTimeout !== undefined ? { stopTimeout: req.stopTimeout } : {}),
    ...(req.labels.length ? { labels: parseLabels(req.labels) } : {}),
    ...(req.user !== undefined ? { user: req.user } : {}),
    network: netSetup.mode,
    ...(ports.length ? { ports } : {}),
  };
  let created: CreatedContainer;
  try {
    created = await e.store.volumes.reserve(volumesToReserve(plan), async (volumes) => {
      if (volumes.length) m.volumes = volumes.map((v) => v.name);
      return createContainer(e.store, {
        image: req.image,
        ...(req.name !== undefined ? { name: req.name } : {}),
        run: { ...run, mounts: [...(run.mounts ?? []), ...toMountRequests(plan, volumes)] },
        idmap,
        meta: m as Record<string, unknown>,
        prepare: async ({ record, dir, layerDirs, image }) => {
          // The image's StopSignal is the default for `prun stop`.
          if (req.stopSignal === undefined && image.config?.StopSignal) m.stopSignal = image.config.StopSignal;
          if (req.workdir !== undefined) await checkWorkdir(req.workdir, record.id, layerDirs, [...(run.mounts ?? []), ...plan.mounts]);
          const u = await resolveContainerUser(layerDirs, req.user ?? image.config?.User, { idmap });
          const etcMounts = await writeEtcFiles(join(dir, 'userdata'), { id: record.id, name: record.name, ...etc }, { skip: plan.mounts.map((x) => x.destination) });
          const firstMounts = plan.mounts.flatMap((x) => (x.type === 'volume' ? [{ name: x.name, destination: x.destination, copyUp: x.copyUp }] : []));
          const vi = await initVolumes(e.store.volumes, firstMounts, { layerDirs, user: u.user, idmap, mountDir: join(dir, 'rootfs'), helper: e.helper });
          for (const w of [...u.warnings, ...vi.warnings]) process.stderr.write(`${w}\n`);
          // keep-id without -u runs as the user's own id (spec.ts), not as the image's root
          const own = req.user === undefined && !image.config?.User && idmap.keepId !== undefined;
          // podman's default hostname: the ID's first 12 characters (the host's own with --network host)
          const hostname = req.hostname ?? (netSetup.mode === 'host' ? undefined : record.id.slice(0, 12));
          return { ...(own ? {} : { user: u.user }), ...(u.home !== undefined ? { home: u.home } : {}), ...(hostname !== undefined ? { hostname } : {}), mounts: etcMounts };
        },
      });
    });
  } catch (err) {
    if (req.cidfile !== undefined) rmSync(req.cidfile, { force: true });
    // buildSpec's option errors are the user's: report them as such, not as a bug.
    if (err instanceof Error && !(err instanceof StoreError) && !('code' in err)) throw badInput(err.message);
    throw err;
  }
  const command = created.spec.process?.args ?? [];
  created.record = await e.store.containers.update(created.record.id, { config: { ...meta(created.record), ...m, command } as Record<string, unknown> });
  for (const w of created.idmap.warnings) process.stderr.write(`${w}\n`);
  if (req.cidfile !== undefined) writeFileSync(req.cidfile, created.record.id);
  return created;
}

/**
 * -w DIR must exist in the image or lie under one of the container's mounts (podman's check,
 * its exit status 126); the image's own WorkingDir is made at start when missing instead.
 */
async function checkWorkdir(dir: string, id: string, layerDirs: string[], mounts: Array<{ destination: string }>): Promise<void> {
  const under = (m: { destination: string }) => dir === m.destination || dir.startsWith(`${m.destination.replace(/\/$/, '')}/`);
  if (mounts.some(under)) return;
  if ((await lookupInLayers(layerDirs, dir))?.stats.isDirectory()) return;
  throw new ExitStatusError(`workdir "${dir}" does not exist on container ${id}`, 126);
}

/** Where podman finds its init (catatonit), then PATH. */
const INIT_CANDIDATES = ['/usr/libexec/podman/catatonit', '/usr/libexec/catatonit/catatonit', '/usr/bin/catatonit'];
const INIT_IN_CONTAINER = '/run/podman-init';

/**
 * --init: catatonit bound read-only at /run/podman-init and put before the container's
 * command (podman's layout), so it runs as PID 1, reaps zombies and forwards signals.
 */
async function initEntrypoint(e: Engine, imageId: ContainerRecord['image'], run: Omit<RunOptions, 'rootfs' | 'idmap'>): Promise<string[]> {
  const path = INIT_CANDIDATES.find((p) => existsSync(p));
  if (!path) throw badInput('--init needs catatonit, which is not installed: apt install catatonit');
  const config = await readImageConfig(e.store, imageId);
  let command: string[];
  try {
    command = containerCommand(config.config ?? {}, { ...(run.args ? { args: run.args } : {}), ...(run.entrypoint ? { entrypoint: run.entrypoint } : {}) });
  } catch (err) {
    throw badInput((err as Error).message);
  }
  delete run.args;
  run.mounts = [...(run.mounts ?? []), { type: 'bind', source: path, destination: INIT_IN_CONTAINER, readOnly: true }];
  return [INIT_IN_CONTAINER, '--', ...command];
}

/** Whether cgroup limits can be set: not on a v1 hierarchy as a normal user. */
function cgroupLimitsWork(): boolean {
  if (process.getuid?.() === 0) return true;
  return existsSync('/sys/fs/cgroup/cgroup.controllers');
}

function writeCidfile(path: string, id: string): void {
  try {
    writeFileSync(path, id, { flag: 'wx' });
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw badInput(`--cidfile ${path}: ${code === 'EEXIST' ? 'the file exists already: remove it or choose another' : (err as Error).message}`);
  }
}

/**
 * The store, with the image in it as --pull wants: always and newer pull first; missing (the
 * default) pulls when the image is not in the store; never leaves it to the lookup, which names
 * the image that is not there. The store is opened once when nothing is pulled.
 */
async function storeWithImage(req: ContainerRequest): Promise<Store> {
  const policy = req.pull ?? 'missing';
  if (policy === 'never' || policy === 'missing') {
    const store = Store.open({ root: req.root });
    if (policy === 'never') return store;
    try {
      await findImage(store, req.image);
      return store;
    } catch (err) {
      store.close();
      if (!(err instanceof StoreError) || err.code !== 'PKIT_NOT_FOUND') throw err;
    }
  }
  const { pullImages } = await import('./pull.ts');
  await pullImages({ root: req.root, image: req.image, quiet: req.quiet, tlsVerify: req.tlsVerify });
  return Store.open({ root: req.root });
}

/** `prun create`: prints the new container's id. */
export async function createAction(req: ContainerRequest): Promise<number> {
  const store = await storeWithImage(req);
  try {
    const created = await createFromRequest(engine(store), req);
    process.stdout.write(`${created.record.id}\n`);
    return 0;
  } finally {
    store.close();
  }
}

/** `prun run`: the exit code for prun (the container's own in the foreground). */
export async function runAction(req: ContainerRequest & { detach: boolean }): Promise<number> {
  if (req.runtime !== undefined) checkRuntime(req.runtime);
  const store = await storeWithImage(req);
  try {
    const e = engine(store);
    const created = await createFromRequest(e, req);
    if (req.detach) {
      try {
        await startInBackground(e, created.record);
      } catch (err) {
        await cleanupFailed(e, created.record.id, req.rm);
        throw err;
      }
      process.stdout.write(`${created.record.id}\n`);
      return 0;
    }
    return await runInForeground(e, created.record, { keepLog: !req.rm && !req.tty, tty: req.tty, interactive: req.interactive });
  } finally {
    store.close();
  }
}

/** `--runtime`: pkit-runtime runs everything; crun and runc cannot mount the overlay root. */
function checkRuntime(name: string): void {
  const r = runtimeBinary({ runtime: name });
  if (r.kind !== 'pkit-runtime') {
    throw badInput(`--runtime ${name}: prun containers need pkit-runtime (their overlay root is mounted by it); crun and runc run bundles through @pkit/runtime only`);
  }
}

async function cleanupFailed(e: Engine, id: string, remove: boolean): Promise<void> {
  const rec = await e.store.containers.get(id);
  if (!rec) return;
  if (remove) {
    const { removeRecord } = await import('./containers.ts');
    await removeRecord(e, rec, true).catch(() => {});
  } else {
    await e.store.containers.update(id, { state: 'exited', config: { ...meta(rec), exitCode: 125 } as Record<string, unknown> });
  }
}

/**
 * Runs a created (or exited) container with this process's stdio. With `keepLog`, stdout and
 * stderr pass through this process and are also logged (prun logs); else they are the
 * container's own.
 */
export async function runInForeground(e: Engine, record: ContainerRecord, opts: { keepLog: boolean; tty: boolean; interactive: boolean }): Promise<number> {
  const dir = e.store.containers.containerDir(record.id);
  const log = opts.keepLog ? new LogWriter(logPath(e, record.id)) : undefined;
  let exitCode = 125;
  try {
    await e.store.containers.update(record.id, {
      state: 'running',
      config: { ...meta(record), ownerPid: process.pid, startedAt: new Date().toISOString() } as Record<string, unknown>,
    });
    const filter = new StderrFilter((c) => {
      log?.write('stderr', c);
      process.stderr.write(c);
    });
    const running = startContainer({
      runtime: e.runtime,
      bundle: dir,
      id: record.id,
      root: e.stateRoot,
      stdio: opts.tty ? ['inherit', 'inherit', 'inherit'] : [opts.interactive ? 'inherit' : 'ignore', log ? 'pipe' : 'inherit', 'pipe'],
      // -t without -i: a terminal, but none of our input (podman)
      ...(opts.tty && !opts.interactive ? { noStdin: true } : {}),
    });
    const stdoutDone = log ? passThrough(running.child.stdout, (c) => log.write('stdout', c)) : Promise.resolve();
    const stderrDone = new Promise<void>((resolve) => {
      const s = running.child.stderr;
      if (!s) return resolve();
      s.on('data', (c: Buffer) => filter.write(c));
      s.on('end', resolve);
      s.on('error', () => resolve());
    });
    const result = await running.result;
    await Promise.all([stdoutDone, stderrDone]);
    exitCode = result.exitCode;
    filter.end(exitCode);
    if (result.runtimeError) process.stderr.write(`Error: ${result.runtimeError.split('\n').join(' ')}\n`);
  } finally {
    log?.close();
    const rec = await e.store.containers.get(record.id);
    if (rec) {
      const done = await e.store.containers.update(record.id, {
        config: { ...meta(rec), exitCode, finishedAt: new Date().toISOString(), ownerPid: 0 } as Record<string, unknown>,
      });
      await refresh(e, done); // records the exit (and removes a --rm container)
    }
  }
  return exitCode;
}

/** Copies a child's stdout to ours (with backpressure), handing every chunk to `tap` too. */
function passThrough(stream: NodeJS.ReadableStream | null | undefined, tap: (c: Buffer) => void): Promise<void> {
  return new Promise<void>((resolve) => {
    if (!stream) return resolve();
    stream.on('data', (c: Buffer) => {
      tap(c);
      if (!process.stdout.write(c)) {
        stream.pause();
        process.stdout.once('drain', () => stream.resume());
      }
    });
    stream.on('end', resolve);
    stream.on('error', () => resolve());
  });
}
