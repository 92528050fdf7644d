// Writing an image into the store from a parent image (or none: FROM scratch), a config and at
// most one new layer: what `pbuild commit` and each step of `pbuild build` end with. A metadata
// step (ENV, LABEL, ...) adds no layer and records its history entry with `empty_layer`.
//
// --format docker writes Docker's manifest and config media types and keeps the config fields
// only Docker's format has (Shell, OnBuild, Healthcheck); OCI (the default, as buildah) drops
// them. The layers' bytes are the same either way; only their media types are named for the
// format.
import type { Digest } from '@pkit/storage/digest';
import { findImage, localImageName } from '@pkit/storage/image-lookup';
import type { ImageRecord } from '@pkit/storage/image-store';
import {
  DOCKER_CONFIG,
  DOCKER_LAYER_TAR,
  DOCKER_LAYER_TAR_GZIP,
  DOCKER_MANIFEST,
  OCI_CONFIG,
  OCI_LAYER_TAR,
  OCI_LAYER_TAR_GZIP,
  OCI_MANIFEST,
} from '@pkit/storage/media-types';
import type { Descriptor, History, ImageConfig, ImageManifest } from '@pkit/storage/oci-types';
import type { Store } from '@pkit/storage/store';
import { readImageConfig } from '@pkit/runtime/container-run';
import type { Platform } from '../containerfile/index.ts';
import { DOCKER_ONLY, type WorkingConfig } from './config.ts';

export type ImageFormat = 'oci' | 'docker';

/** The layer a step made, as layerFromUpperDir registered it. */
export interface NewLayer {
  diffID: Digest;
  digest: Digest;
  size: number;
  mediaType: string;
  chainID: Digest;
}

export interface ImageWrite {
  /** The parent image's ID (scratchImage's for FROM scratch). */
  parent: string;
  wc: WorkingConfig;
  layer?: NewLayer;
  history: { createdBy: string; comment?: string };
  /** created_by of steps folded into this image before its own entry (--squash): empty_layer entries */
  folded?: string[];
  format: ImageFormat;
  /** Seconds since the epoch for `created` (--timestamp, SOURCE_DATE_EPOCH); default now. */
  timestamp?: number;
  /** A name to tag the image with. */
  tag?: string;
  /** Manifest annotations added to the working config's (--annotation). */
  annotations?: Record<string, string>;
}

const TO_DOCKER: Record<string, string> = { [OCI_LAYER_TAR_GZIP]: DOCKER_LAYER_TAR_GZIP, [OCI_LAYER_TAR]: DOCKER_LAYER_TAR };
const TO_OCI: Record<string, string> = { [DOCKER_LAYER_TAR_GZIP]: OCI_LAYER_TAR_GZIP, [DOCKER_LAYER_TAR]: OCI_LAYER_TAR };

function layerType(mediaType: string, format: ImageFormat): string {
  return (format === 'docker' ? TO_DOCKER : TO_OCI)[mediaType] ?? mediaType;
}

/** The config of an image with no layers (FROM scratch) for a platform. */
function scratchConfig(platform: Platform): ImageConfig {
  return { architecture: platform.architecture, os: platform.os, ...(platform.variant ? { variant: platform.variant } : {}), rootfs: { type: 'layers', diff_ids: [] } };
}

async function parentParts(store: Store, parent: string): Promise<{ record: ImageRecord; config: ImageConfig; layers: Descriptor[] }> {
  const record = await findImage(store, parent);
  const config = await readImageConfig(store, record.id);
  const manifest = JSON.parse((await store.blobs.readBytes(record.manifestDigest, 4 << 20)).toString()) as ImageManifest;
  return { record, config, layers: manifest.layers };
}

/**
 * Writes the image (config, manifest, record; the tag when given) and returns its record. Run
 * it inside store.write(), with the step's layer, so gc never sees the layer unreferenced.
 */
export async function writeImage(store: Store, w: ImageWrite): Promise<ImageRecord> {
  const base = await parentParts(store, w.parent);
  const created = new Date(w.timestamp !== undefined ? w.timestamp * 1000 : Date.now()).toISOString();
  const runConfig = { ...w.wc.config };
  if (w.format !== 'docker') for (const k of DOCKER_ONLY) delete runConfig[k];
  const entry: History = {
    created,
    created_by: w.history.createdBy,
    ...(w.wc.author ? { author: w.wc.author } : {}),
    ...(w.history.comment !== undefined ? { comment: w.history.comment } : {}),
    ...(w.layer ? {} : { empty_layer: true }),
  };
  const config: ImageConfig = {
    ...base.config,
    created,
    config: runConfig,
    rootfs: { type: 'layers', diff_ids: [...(base.config.rootfs?.diff_ids ?? []), ...(w.layer ? [w.layer.diffID] : [])] },
    history: [...(base.config.history ?? []), ...(w.folded ?? []).map((by) => ({ created, created_by: by, empty_layer: true })), entry],
  };
  if (w.wc.author) config.author = w.wc.author;
  else delete config.author;
  const annotations = { ...w.wc.annotations, ...w.annotations };
  const layers = [...base.layers, ...(w.layer ? [{ mediaType: w.layer.mediaType, digest: w.layer.digest, size: w.layer.size }] : [])];
  const docker = w.format === 'docker';
  const tagName = w.tag === undefined ? undefined : localImageName(w.tag);
  const configBlob = await store.blobs.putBytes(JSON.stringify(config));
  const manifest: ImageManifest = {
    schemaVersion: 2,
    mediaType: docker ? DOCKER_MANIFEST : OCI_MANIFEST,
    config: { mediaType: docker ? DOCKER_CONFIG : OCI_CONFIG, digest: configBlob.digest, size: configBlob.size },
    layers: layers.map((l) => ({ mediaType: layerType(l.mediaType, w.format), digest: l.digest, size: l.size })),
    ...(!docker && Object.keys(annotations).length ? { annotations } : {}),
  };
  const manifestBlob = await store.blobs.putBytes(JSON.stringify(manifest));
  const image: ImageRecord = {
    id: configBlob.digest,
    manifestDigest: manifestBlob.digest,
    manifestMediaType: manifest.mediaType!,
    layers: [...base.record.layers, ...(w.layer ? [w.layer.chainID] : [])],
    blobs: [manifestBlob.digest, configBlob.digest, ...layers.map((l) => l.digest)],
    created,
    parent: base.record.id,
  };
  await store.images.put(image);
  if (tagName) await store.images.tag(tagName, image.id);
  return image;
}

/**
 * FROM scratch: an image with no layers and no history, for the build's platform, so a build's
 * steps start from it like from any image. Its ID is the same every time.
 */
export async function scratchImage(store: Store, platform: Platform): Promise<string> {
  return store.write(async () => {
    const configBlob = await store.blobs.putBytes(JSON.stringify(scratchConfig(platform)));
    const manifest: ImageManifest = { schemaVersion: 2, mediaType: OCI_MANIFEST, config: { mediaType: OCI_CONFIG, digest: configBlob.digest, size: configBlob.size }, layers: [] };
    const manifestBlob = await store.blobs.putBytes(JSON.stringify(manifest));
    if (!(await store.images.get(configBlob.digest))) {
      await store.images.put({ id: configBlob.digest, manifestDigest: manifestBlob.digest, manifestMediaType: OCI_MANIFEST, layers: [], blobs: [manifestBlob.digest, configBlob.digest], created: new Date(0).toISOString() });
    }
    return configBlob.digest;
  });
}
