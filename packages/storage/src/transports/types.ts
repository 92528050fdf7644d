// The one small interface every transport implements (docker, oci, oci-archive, docker-archive,
// dir, local). `copyImage` (copy.ts) is written once against it: source -> destination.
//
// Contracts:
// - Who verifies: the copy routine passes every blob through a VerifyingStream built from the
//   source's descriptor, so a destination receives a stream that errors (before it ends) when
//   the bytes do not match. A destination must not make a blob visible unless its stream ended
//   without error; a blob marked `verified` need not be hashed again (a second SHA-256 pass
//   over every layer is the costliest part of a local copy), any other one is checked.
// - Atomicity: nothing is visible under the destination's name before `commit`. Blobs and
//   child manifests may land earlier (content-addressed, unnamed); `close` without `commit`
//   removes whatever the destination staged that is not content-addressed, and a rerun of the
//   same copy completes.
// - Order: `putBlob` calls may run in parallel; `putManifest` comes after the blobs it lists;
//   `commit` comes last, once.
import type { Readable } from 'node:stream';
import type { Digest } from '../digest.ts';
import type { LayerStoreHooks } from '../layer-store.ts';
import type { Descriptor, ImageManifest } from '../oci-types.ts';

/** A manifest or index exactly as stored: its bytes define its digest. */
export interface ManifestBlob {
  bytes: Buffer;
  mediaType: string;
  digest: Digest;
}

export interface ImageSource {
  /** The reference as the user wrote it (`docker://host/repo:tag`), for messages. */
  readonly name: string;
  /**
   * The image's top-level manifest (which may be an index), or with `digest` one of the
   * manifests an index lists.
   */
  manifest(digest?: Digest): Promise<ManifestBlob>;
  /** A blob's bytes (config or layer) as a stream, exactly as the descriptor names them. */
  blob(desc: Descriptor): Promise<Readable>;
  /** Tags the source records for the image (docker-archive's RepoTags); else empty. */
  tags?(): Promise<string[]>;
  /** The name an OCI layout gives the image (org.opencontainers.image.ref.name), if any. */
  refName?(): string | undefined;
  close(): Promise<void>;
}

/** What a blob stored at a destination turned out to be. */
export interface StoredBlob {
  digest: Digest;
  size: number;
}

/** A blob to store; `digest` and `size` are absent when the copy recompresses on the way. */
export interface BlobToPut {
  mediaType: string;
  digest?: Digest;
  size?: number;
  /**
   * The stream is already verified against `digest` (the copy's VerifyingStream errors before
   * its end on a mismatch): the destination need not hash it again, only not keep it on error.
   */
  verified?: boolean;
}

export interface ImageDestination {
  /** The reference as the user wrote it, for messages. */
  readonly name: string;
  /**
   * Manifest media types this destination can store, preferred first. When the source's type
   * is not listed, the copy converts the manifest to the first one (changing its digest).
   */
  readonly manifestTypes: readonly string[];
  /** Whether it can store an index with several images (`--all`). */
  readonly acceptsIndex: boolean;
  /** Layer compression the destination insists on (docker-archive: 'none'); else undefined. */
  readonly requiredCompression?: 'none' | 'gzip';
  /**
   * Registries and OCI layouts gzip the layers that arrive uncompressed (images a build
   * committed, kept uncompressed in the store as buildah's are), as containers/image does,
   * unless --dest-compress-format says otherwise.
   */
  readonly compressesUncompressed?: boolean;
  /**
   * Whether the blob is already there, so the copy can skip it. A registry may make it be
   * there by a cross-repository mount when `source` is a repository of the same registry.
   */
  hasBlob(desc: Descriptor, source?: ImageSource): Promise<boolean>;
  /**
   * Told of each image's manifest and config before its blobs are copied, for a destination
   * that can do work as blobs arrive (the local store unpacks layers meanwhile).
   */
  prepare?(manifest: ImageManifest, config: Buffer): Promise<void>;
  /** Stores a blob from a stream (see the verification contract above). */
  putBlob(stream: Readable, blob: BlobToPut): Promise<StoredBlob>;
  /** Stores a manifest by digest, not yet under the destination's name (children of an index). */
  putManifest(manifest: ManifestBlob): Promise<void>;
  /** Stores `top` if needed and makes it visible under the destination's name. */
  commit(top: ManifestBlob): Promise<void>;
  /** Releases resources; without a prior commit, removes what only this copy staged. */
  close(): Promise<void>;
}

/** Options every transport may receive; each uses what applies to it. */
export interface TransportOptions {
  /** Credentials for a registry, `user:password` already split. */
  creds?: { username: string; password: string };
  /** An auth.json to read credentials from, instead of the default search path. */
  authFile?: string;
  /** false: accept self-signed certificates and fall back to plain HTTP (skopeo's --tls-verify=false). */
  tlsVerify?: boolean;
  /** Attempts after the first for a failed network request. */
  retryTimes?: number;
  /** The local store root (local: transport). */
  storeRoot?: string;
  /** How the local store applies and removes layers (the rootless hooks of @pkit/runtime). */
  storeHooks?: LayerStoreHooks;
  /** OS/architecture/variant to pick from an index instead of this machine's. */
  platform?: { os?: string; architecture?: string; variant?: string };
}
