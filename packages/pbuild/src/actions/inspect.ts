// `pbuild inspect`: buildah's inspect of a working container or of an image. Both have buildah's
// image fields: FromImage*, Config and Manifest (the raw JSON), OCIv1 (the OCI config), Docker
// (the same config in Docker's shape, with its Docker-only fields) and History. buildah's run
// settings (Isolation, NamespaceOptions, IDMappingOptions, Capabilities...) are not shown:
// pbuild's are fixed, not per container. Without --type, a name that is no working container is
// looked up as an image, as buildah does.
import type { ContainerRecord } from '@pkit/storage/container-store';
import { StoreError } from '@pkit/storage/errors';
import type { ContainerConfig, ImageConfig, DockerImageConfig } from '@pkit/storage/oci-types';
import type { ImageRecord } from '@pkit/storage/image-store';
import type { Store } from '@pkit/storage/store';
import { findNamedImage } from '@pkit/cli-common/image-names';
import { inspectWorking, readWorkingConfig } from './config.ts';
import { findWorking, openStore } from './working.ts';

export type InspectType = 'container' | 'image';

export async function inspect(root: string | undefined, name: string, type: InspectType | undefined): Promise<Record<string, unknown>> {
  const store = openStore(root);
  try {
    if (type === 'image') return await inspectImage(store, name);
    let rec: ContainerRecord;
    try {
      rec = await findWorking(store, name);
    } catch (err) {
      if (type === 'container' || !(err instanceof StoreError) || err.code !== 'PKIT_NOT_FOUND') throw err;
      try {
        return await inspectImage(store, name);
      } catch (imageErr) {
        if (!(imageErr instanceof StoreError) || imageErr.code !== 'PKIT_NOT_FOUND') throw imageErr;
        // a container of prun says so; otherwise neither kind is there
        if (/container of prun/.test(err.message)) throw err;
        throw new StoreError(`no working container or image "${name}" found: see pbuild containers and pbuild images`, 'PKIT_NOT_FOUND');
      }
    }
    return await inspectContainer(store, rec);
  } finally {
    store.close();
  }
}

async function inspectContainer(store: Store, rec: ContainerRecord): Promise<Record<string, unknown>> {
  const base = await inspectWorking(store, rec);
  const oci = base['OCIv1'] as ImageConfig;
  // Docker's view keeps what OCI has no field for (Shell, OnBuild, Healthcheck)
  const wc = await readWorkingConfig(store, rec);
  return { ...base, Docker: dockerImage({ ...oci, config: wc.config, ...(wc.author ? { author: wc.author } : {}) }), History: oci.history ?? [] };
}

export async function inspectImage(store: Store, query: string): Promise<Record<string, unknown>> {
  const { image, name } = await findNamedImage(store, query);
  const configText = await readText(store, image.id);
  const manifestText = await readText(store, image.manifestDigest);
  const config = JSON.parse(configText) as DockerImageConfig;
  const manifest = JSON.parse(manifestText) as { annotations?: Record<string, string> };
  return {
    Type: 'buildah 0.0.1',
    FromImage: name ?? (await firstName(store, image)),
    FromImageID: image.id.slice('sha256:'.length),
    FromImageDigest: image.manifestDigest,
    Config: configText,
    Manifest: manifestText,
    Container: '',
    ContainerID: '',
    MountPoint: '',
    ProcessLabel: '',
    MountLabel: '',
    ImageAnnotations: manifest.annotations ?? {},
    ImageCreatedBy: '',
    OCIv1: ociImage(config),
    Docker: dockerImage(config),
    History: config.history ?? [],
  };
}

async function readText(store: Store, digest: ImageRecord['id']): Promise<string> {
  return (await store.blobs.readBytes(digest, 4 << 20)).toString('utf8');
}

async function firstName(store: Store, image: ImageRecord): Promise<string> {
  return (await store.images.names()).filter((n) => n.id === image.id).map((n) => n.name).sort()[0] ?? '';
}

/** The fields of OCI's ImageConfig; a Docker config's others are left out. */
const OCI_CONFIG_KEYS = ['User', 'ExposedPorts', 'Env', 'Entrypoint', 'Cmd', 'Volumes', 'WorkingDir', 'Labels', 'StopSignal', 'ArgsEscaped'] as const;

/** The image config as OCI's v1 Image, in its field order. */
export function ociImage(c: DockerImageConfig): Record<string, unknown> {
  const config: Record<string, unknown> = {};
  for (const k of OCI_CONFIG_KEYS) if (c.config?.[k] !== undefined && c.config[k] !== null) config[k] = c.config[k];
  return pick({
    created: c.created,
    author: c.author || undefined,
    architecture: c.architecture,
    variant: c.variant || undefined,
    os: c.os,
    'os.version': c['os.version'] || undefined,
    'os.features': c['os.features'],
    config,
    rootfs: c.rootfs,
    history: c.history,
  });
}

/** The image config in Docker's v2 image shape (buildah's "Docker"), in its field order. */
export function dockerImage(c: DockerImageConfig): Record<string, unknown> {
  return pick({
    id: c.id || undefined,
    parent: c.parent || undefined,
    comment: c.comment || undefined,
    created: c.created,
    container: c.container || undefined,
    container_config: dockerConfig(c.container_config ?? c.config ?? {}),
    docker_version: c.docker_version || undefined,
    author: c.author || undefined,
    config: dockerConfig(c.config ?? {}),
    architecture: c.architecture,
    variant: c.variant || undefined,
    os: c.os,
    rootfs: c.rootfs,
    history: c.history,
    'os.version': c['os.version'] || undefined,
    'os.features': c['os.features'],
  });
}

/** Docker's container Config: every field, the `omitempty` ones only when set. */
function dockerConfig(c: ContainerConfig): Record<string, unknown> {
  return pick({
    Hostname: c.Hostname ?? '',
    Domainname: c.Domainname ?? '',
    User: c.User ?? '',
    AttachStdin: c.AttachStdin ?? false,
    AttachStdout: c.AttachStdout ?? false,
    AttachStderr: c.AttachStderr ?? false,
    ExposedPorts: c.ExposedPorts && Object.keys(c.ExposedPorts).length ? c.ExposedPorts : undefined,
    Tty: c.Tty ?? false,
    OpenStdin: c.OpenStdin ?? false,
    StdinOnce: c.StdinOnce ?? false,
    Env: c.Env ?? null,
    Cmd: c.Cmd ?? null,
    Healthcheck: c.Healthcheck,
    ArgsEscaped: c.ArgsEscaped || undefined,
    Image: c.Image ?? '',
    Volumes: c.Volumes ?? null,
    WorkingDir: c.WorkingDir ?? '',
    Entrypoint: c.Entrypoint ?? null,
    OnBuild: c.OnBuild ?? null,
    Labels: c.Labels ?? null,
    StopSignal: c.StopSignal || undefined,
    StopTimeout: c.StopTimeout,
    Shell: c.Shell?.length ? c.Shell : undefined,
  });
}

/** The object without its undefined fields (Go's omitempty). */
function pick(o: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined));
}
