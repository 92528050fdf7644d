// Wire types of the OCI image spec and Docker schema 2: plain JSON data, no behaviour.
// Field names are exactly as on the wire. Parse untrusted bytes with validate.ts.
import type { Digest } from './digest.ts';

export type Annotations = Record<string, string>;

export interface Platform {
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  features?: string[];
}

export interface Descriptor {
  mediaType: string;
  digest: Digest;
  size: number;
  urls?: string[];
  annotations?: Annotations;
  /** Base64 of the content, when embedded. */
  data?: string;
  artifactType?: string;
  platform?: Platform;
}

/** An entry of an image index / manifest list. */
export interface IndexDescriptor extends Descriptor {
  platform?: Platform;
}

export interface ImageManifest {
  schemaVersion: 2;
  /** Optional in OCI (SHOULD be set), required in Docker schema 2. */
  mediaType?: string;
  artifactType?: string;
  config: Descriptor;
  layers: Descriptor[];
  subject?: Descriptor;
  annotations?: Annotations;
}

export interface ImageIndex {
  schemaVersion: 2;
  mediaType?: string;
  artifactType?: string;
  manifests: IndexDescriptor[];
  subject?: Descriptor;
  annotations?: Annotations;
}

/** Docker schema 2 image manifest: like OCI, with mediaType required. */
export interface DockerManifest {
  schemaVersion: 2;
  mediaType: string;
  config: Descriptor;
  layers: Descriptor[];
}

export interface DockerManifestList {
  schemaVersion: 2;
  mediaType: string;
  manifests: IndexDescriptor[];
}

export type AnyManifest = ImageManifest | DockerManifest;
export type AnyIndex = ImageIndex | DockerManifestList;

/** The execution parameters of an image (`config` in the image config). */
export interface ContainerConfig {
  User?: string;
  ExposedPorts?: Record<string, Record<string, never>>;
  Env?: string[];
  Entrypoint?: string[] | null;
  Cmd?: string[] | null;
  Volumes?: Record<string, Record<string, never>>;
  WorkingDir?: string;
  Labels?: Record<string, string>;
  StopSignal?: string;
  ArgsEscaped?: boolean;
  // Docker-only fields, kept when present.
  Healthcheck?: HealthConfig;
  OnBuild?: string[] | null;
  Shell?: string[];
  Hostname?: string;
  Domainname?: string;
  AttachStdin?: boolean;
  AttachStdout?: boolean;
  AttachStderr?: boolean;
  Tty?: boolean;
  OpenStdin?: boolean;
  StdinOnce?: boolean;
  Image?: string;
  StopTimeout?: number;
}

export interface HealthConfig {
  Test?: string[];
  /** Durations in nanoseconds. */
  Interval?: number;
  Timeout?: number;
  StartPeriod?: number;
  StartInterval?: number;
  Retries?: number;
}

export interface RootFS {
  type: 'layers';
  diff_ids: Digest[];
}

export interface History {
  created?: string;
  author?: string;
  created_by?: string;
  comment?: string;
  empty_layer?: boolean;
}

export interface ImageConfig {
  created?: string;
  author?: string;
  architecture: string;
  os: string;
  'os.version'?: string;
  'os.features'?: string[];
  variant?: string;
  config?: ContainerConfig;
  rootfs: RootFS;
  history?: History[];
}

/** Docker's image config (application/vnd.docker.container.image.v1+json): a superset. */
export interface DockerImageConfig extends ImageConfig {
  id?: string;
  parent?: string;
  comment?: string;
  container?: string;
  container_config?: ContainerConfig;
  docker_version?: string;
}

/** `oci-layout` file at the root of an OCI layout directory. */
export interface OCILayout {
  imageLayoutVersion: string;
}
