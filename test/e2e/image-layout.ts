// Small OCI image layouts written by hand for the e2e tests: images with chosen configs,
// several layers or several platforms, which the fixture alone does not give.
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';

export interface Desc {
  mediaType: string;
  digest: string;
  size: number;
  platform?: { os: string; architecture: string };
  annotations?: Record<string, string>;
}

const sha256 = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

function putBlob(dir: string, bytes: Buffer, mediaType: string): Desc {
  const digest = sha256(bytes);
  mkdirSync(join(dir, 'blobs', 'sha256'), { recursive: true });
  writeFileSync(join(dir, 'blobs', 'sha256', digest.slice(7)), bytes);
  return { mediaType, digest, size: bytes.length };
}

export interface ImageSpec {
  /** Uncompressed layer tars, bottom first (stored gzip-compressed). */
  layers: Buffer[];
  architecture?: string;
  os?: string;
  /** Image config `history`; default one entry per layer. */
  history?: { created?: string; created_by?: string; comment?: string; empty_layer?: boolean }[];
  config?: Record<string, unknown>;
}

/** Writes an image's blobs into the layout at `dir`; returns its manifest descriptor. */
export function putImage(dir: string, spec: ImageSpec): Desc {
  const created = '2024-01-01T00:00:00Z';
  const layers = spec.layers.map((tar) => putBlob(dir, gzipSync(tar), 'application/vnd.oci.image.layer.v1.tar+gzip'));
  const config = {
    created,
    architecture: spec.architecture ?? hostArch(),
    os: spec.os ?? 'linux',
    config: spec.config ?? { Env: ['PATH=/bin'], Cmd: ['/bin/sh'] },
    rootfs: { type: 'layers', diff_ids: spec.layers.map(sha256) },
    history: spec.history ?? spec.layers.map((_, i) => ({ created, created_by: `layer ${i}` })),
  };
  const configDesc = putBlob(dir, Buffer.from(JSON.stringify(config)), 'application/vnd.oci.image.config.v1+json');
  const manifest = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: configDesc, layers };
  const desc = putBlob(dir, Buffer.from(JSON.stringify(manifest)), manifest.mediaType);
  return { ...desc, platform: { os: config.os, architecture: config.architecture } };
}

/** Writes an OCI index of `children` as a blob; returns its descriptor. */
export function putIndex(dir: string, children: Desc[]): Desc {
  const index = { schemaVersion: 2, mediaType: 'application/vnd.oci.image.index.v1+json', manifests: children };
  return putBlob(dir, Buffer.from(JSON.stringify(index)), index.mediaType);
}

/** Writes oci-layout and index.json naming `top` as `ref`. */
export function finishLayout(dir: string, top: Desc, ref: string): void {
  writeFileSync(join(dir, 'oci-layout'), JSON.stringify({ imageLayoutVersion: '1.0.0' }));
  const { platform: _platform, ...entry } = top;
  writeFileSync(join(dir, 'index.json'), JSON.stringify({ schemaVersion: 2, manifests: [{ ...entry, annotations: { 'org.opencontainers.image.ref.name': ref } }] }));
}

/** This machine's architecture in OCI's words. */
export function hostArch(): string {
  return ({ x64: 'amd64', arm64: 'arm64' } as Record<string, string>)[process.arch] ?? process.arch;
}
