// `prun inspect` of containers: podman's JSON shape for the fields scripts read (State,
// Config, HostConfig, Mounts, NetworkSettings.Ports, GraphDriver, ...), from the record and the
// bundle's spec.
import { join } from 'node:path';
import type { ContainerRecord } from '@pkit/storage/container-store';
import { readContainerSpec } from '@pkit/runtime/bundle';
import type { Spec } from '@pkit/runtime/oci-spec';
import type { PortMapping } from '@pkit/runtime/network';
import { logPath, meta, type Engine } from './containers.ts';

const ZERO_TIME = '0001-01-01T00:00:00Z';

function readSpec(e: Engine, id: string): Spec | undefined {
  try {
    return readContainerSpec(e.store, id);
  } catch {
    return undefined;
  }
}

function status(rec: ContainerRecord): string {
  return rec.state === 'stopped' ? 'exited' : rec.state;
}

/** "80/tcp" -> [{HostIp, HostPort}], as podman's NetworkSettings.Ports. */
export function portsMap(ports: unknown[] | undefined): Record<string, Array<{ HostIp: string; HostPort: string }>> {
  const out: Record<string, Array<{ HostIp: string; HostPort: string }>> = {};
  for (const p of (ports ?? []) as PortMapping[]) {
    for (let i = 0; i < p.range; i++) {
      const key = `${p.containerPort + i}/${p.protocol}`;
      (out[key] ??= []).push({ HostIp: p.hostIP, HostPort: String(p.hostPort + i) });
    }
  }
  return out;
}

export function inspectContainer(e: Engine, rec: ContainerRecord): Record<string, unknown> {
  const m = meta(rec);
  const spec = readSpec(e, rec.id);
  const proc = spec?.process;
  const args = proc?.args ?? m.command ?? [];
  const dir = e.store.containers.containerDir(rec.id);
  const root = spec?.mounts?.[0]?.type === 'overlay' ? spec.mounts[0] : undefined;
  const opt = (k: string) => root?.options?.find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1);
  const userMounts = (spec?.mounts ?? []).slice(root ? 1 : 0).filter((x) => x.type === 'bind' && !x.destination.startsWith('/etc/') && x.destination !== '/run/podman-init' && x.destination !== '/run/.containerenv');
  const running = rec.state === 'running';
  const env = proc?.env ?? [];
  return {
    Id: rec.id,
    Created: rec.created,
    Path: args[0] ?? '',
    Args: args.slice(1),
    State: {
      OciVersion: spec?.ociVersion ?? '',
      Status: status(rec),
      Running: running,
      Paused: rec.state === 'paused',
      Restarting: false,
      OOMKilled: false,
      Dead: false,
      Pid: running ? (m.pid ?? 0) : 0,
      ExitCode: m.exitCode ?? 0,
      Error: '',
      StartedAt: m.startedAt ?? ZERO_TIME,
      FinishedAt: m.finishedAt ?? ZERO_TIME,
    },
    Image: rec.image.slice('sha256:'.length),
    ImageDigest: rec.image,
    ImageName: rec.imageName,
    Rootfs: '',
    Pod: '',
    ResolvConfPath: join(dir, 'userdata', 'resolv.conf'),
    HostnamePath: join(dir, 'userdata', 'hostname'),
    HostsPath: join(dir, 'userdata', 'hosts'),
    StaticDir: dir,
    OCIRuntime: 'pkit-runtime',
    ConmonPidFile: '',
    PidFile: '',
    Name: rec.name,
    RestartCount: 0,
    Driver: 'overlay',
    MountLabel: '',
    ProcessLabel: '',
    AppArmorProfile: '',
    EffectiveCaps: proc?.capabilities?.effective ?? [],
    BoundingCaps: proc?.capabilities?.bounding ?? [],
    ExecIDs: [],
    GraphDriver: {
      Name: 'overlay',
      Data: { LowerDir: opt('lowerdir') ?? '', UpperDir: opt('upperdir') ?? '', WorkDir: opt('workdir') ?? '', MergedDir: join(dir, 'rootfs') },
    },
    Mounts: userMounts.map((x) => ({
      Type: 'bind',
      Source: x.source,
      Destination: x.destination,
      Driver: '',
      Mode: '',
      Options: (x.options ?? []).filter((o) => o === 'rbind' || o === 'nosuid' || o === 'nodev' || o === 'noexec'),
      RW: !(x.options ?? []).includes('ro'),
      Propagation: 'rprivate',
    })),
    Dependencies: [],
    NetworkSettings: { Ports: portsMap(m.ports) },
    Namespace: '',
    IsInfra: false,
    IsService: false,
    Config: {
      Hostname: spec?.hostname ?? '',
      Domainname: '',
      User: m.user ?? '',
      AttachStdin: false,
      AttachStdout: false,
      AttachStderr: false,
      Tty: m.tty === true,
      OpenStdin: m.interactive === true,
      StdinOnce: false,
      Env: env,
      Cmd: args,
      Image: rec.imageName,
      Volumes: null,
      WorkingDir: proc?.cwd ?? '/',
      Entrypoint: '',
      OnBuild: null,
      Labels: m.labels ?? null,
      Annotations: spec?.annotations ?? {},
      StopSignal: m.stopSignal ?? 'SIGTERM',
      StopTimeout: m.stopTimeout ?? 10,
      CreateCommand: [],
      Umask: '0022',
      Timeout: 0,
      StopTimeoutSeconds: m.stopTimeout ?? 10,
    },
    HostConfig: {
      NetworkMode: m.network ?? 'slirp4netns',
      AutoRemove: m.autoRemove === true,
      ReadonlyRootfs: spec?.root?.readonly === true,
      PortBindings: portsMap(m.ports),
      LogConfig: { Type: 'k8s-file', Path: logPath(e, rec.id) },
    },
    LogPath: logPath(e, rec.id),
  };
}
