import { test } from 'uvu';
import { throwsStoreError } from './helpers.ts';
import * as assert from 'uvu/assert';
import { digestOf } from '../../../packages/storage/src/digest.ts';
import { NotFoundError, StoreError } from '../../../packages/storage/src/errors.ts';
import * as MT from '../../../packages/storage/src/media-types.ts';
import type { ImageIndex } from '../../../packages/storage/src/oci-types.ts';
import {
  MAX_CONFIG_BYTES,
  MAX_MANIFEST_BYTES,
  baseMediaType,
  currentPlatform,
  formatPlatform,
  normalizePlatform,
  parseImageConfig,
  parseManifestBytes,
  parsePlatform,
  platformMatches,
  selectPlatform,
  validateDescriptor,
} from '../../../packages/storage/src/validate.ts';

const D1 = digestOf('one');
const D2 = digestOf('two');
const D3 = digestOf('three');

const enc = (v: unknown): Uint8Array => new TextEncoder().encode(typeof v === 'string' ? v : JSON.stringify(v));

function manifest(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: MT.OCI_MANIFEST,
    config: { mediaType: MT.OCI_CONFIG, digest: D1, size: 10 },
    layers: [
      { mediaType: MT.OCI_LAYER_TAR_GZIP, digest: D2, size: 100 },
      { mediaType: MT.OCI_LAYER_TAR_ZSTD, digest: D3, size: 0 },
    ],
    ...over,
  };
}

function index(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    schemaVersion: 2,
    mediaType: MT.OCI_INDEX,
    manifests: [
      { mediaType: MT.OCI_MANIFEST, digest: D1, size: 500, platform: { os: 'linux', architecture: 'amd64' } },
      { mediaType: MT.OCI_MANIFEST, digest: D2, size: 500, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    ],
    ...over,
  };
}

function config(over: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    architecture: 'amd64',
    os: 'linux',
    config: { Env: ['PATH=/usr/bin'], Cmd: ['sh'], Labels: { a: 'b' }, ExposedPorts: { '80/tcp': {} } },
    rootfs: { type: 'layers', diff_ids: [D1, D2] },
    history: [{ created_by: 'ADD x', created: '2024-01-01T00:00:00Z' }, { created_by: 'ENV', empty_layer: true }],
    ...over,
  };
}


// ------------------------------------------------------------------ media types

test('media types: constants and classifiers', () => {
  assert.is(MT.OCI_MANIFEST, 'application/vnd.oci.image.manifest.v1+json');
  assert.is(MT.DOCKER_MANIFEST_LIST, 'application/vnd.docker.distribution.manifest.list.v2+json');
  assert.is(MT.OCI_EMPTY_DIGEST, digestOf('{}'));
  assert.is(MT.OCI_EMPTY_SIZE, 2);
  assert.is(MT.layerCompression(MT.DOCKER_LAYER_TAR_GZIP), 'gzip');
  assert.is(MT.layerCompression(MT.OCI_LAYER_NONDISTRIBUTABLE_TAR_ZSTD), 'zstd');
  assert.is(MT.layerCompression(MT.OCI_LAYER_TAR), 'none');
  assert.is(MT.layerCompression(MT.OCI_CONFIG), undefined);
  assert.ok(MT.isNondistributable(MT.DOCKER_LAYER_FOREIGN_TAR_GZIP));
  assert.not.ok(MT.isNondistributable(MT.OCI_LAYER_TAR_GZIP));
  assert.ok(MT.LAYER_MEDIA_TYPES.includes(MT.DOCKER_LAYER_TAR));
  assert.is(baseMediaType(' Application/JSON; charset=utf-8'), 'application/json');
});

// ------------------------------------------------------------------ manifests

test('parses an OCI manifest', () => {
  const m = parseManifestBytes(enc(manifest()));
  assert.is(m.kind, 'manifest');
  assert.is(m.mediaType, MT.OCI_MANIFEST);
  if (m.kind !== 'manifest') throw new Error('kind');
  assert.is(m.value.layers.length, 2);
  assert.is(m.value.config.digest, D1);
});

test('parses a Docker schema 2 manifest with matching content type and parameters', () => {
  const body = manifest({ mediaType: MT.DOCKER_MANIFEST, config: { mediaType: MT.DOCKER_CONFIG, digest: D1, size: 1 } });
  const m = parseManifestBytes(enc(body), `${MT.DOCKER_MANIFEST}; charset=utf-8`);
  assert.is(m.kind, 'manifest');
  assert.is(m.mediaType, MT.DOCKER_MANIFEST);
});

test('parses an OCI index and a Docker manifest list', () => {
  const i = parseManifestBytes(enc(index()), MT.OCI_INDEX);
  assert.is(i.kind, 'index');
  if (i.kind !== 'index') throw new Error('kind');
  assert.is(i.value.manifests.length, 2);
  const l = parseManifestBytes(enc(index({ mediaType: MT.DOCKER_MANIFEST_LIST })));
  assert.is(l.kind, 'index');
  assert.is(l.mediaType, MT.DOCKER_MANIFEST_LIST);
});

test('detects the type when the body has no mediaType', () => {
  const m = manifest();
  delete m.mediaType;
  assert.equal(parseManifestBytes(enc(m)).mediaType, MT.OCI_MANIFEST);
  assert.equal(parseManifestBytes(enc(m), 'application/json').mediaType, MT.OCI_MANIFEST);
  const i = index();
  delete i.mediaType;
  const r = parseManifestBytes(enc(i), 'application/octet-stream');
  assert.is(r.kind, 'index');
  assert.is(r.mediaType, MT.OCI_INDEX);
  // The content type decides when the body is silent.
  const d = parseManifestBytes(enc(m), MT.DOCKER_MANIFEST);
  assert.is(d.mediaType, MT.DOCKER_MANIFEST);
});

test('keeps optional fields: annotations, urls, subject, artifactType, platform', () => {
  const m = parseManifestBytes(
    enc(
      manifest({
        annotations: { 'org.opencontainers.image.title': 'x' },
        artifactType: 'application/vnd.example',
        subject: { mediaType: MT.OCI_MANIFEST, digest: D3, size: 3 },
        layers: [{ mediaType: MT.OCI_LAYER_NONDISTRIBUTABLE_TAR_GZIP, digest: D2, size: 5, urls: ['https://example.com/l'], annotations: { a: 'b' } }],
      }),
    ),
  );
  if (m.kind !== 'manifest') throw new Error('kind');
  assert.equal(m.value.layers[0]!.urls, ['https://example.com/l']);
  assert.is(m.value.subject!.digest, D3);
});

test('the content-type and body mediaType must agree', () => {
  throwsStoreError(() => parseManifestBytes(enc(manifest()), MT.DOCKER_MANIFEST), `manifest: mediaType "${MT.OCI_MANIFEST}" does not match the content type "${MT.DOCKER_MANIFEST}"`);
  throwsStoreError(() => parseManifestBytes(enc(index()), MT.OCI_MANIFEST), 'does not match the content type');
});

test('structure must match the declared kind', () => {
  const i = index();
  delete i.mediaType;
  throwsStoreError(() => parseManifestBytes(enc(i), MT.OCI_MANIFEST), /declared as .*manifest\.v1\+json \(an image manifest\) but has "manifests"/);
  throwsStoreError(() => parseManifestBytes(enc(manifest({ mediaType: MT.OCI_INDEX }))), /an index\) but has "config" and "layers"/);
  throwsStoreError(() => parseManifestBytes(enc({ ...manifest(), manifests: [] })), 'is ambiguous');
  throwsStoreError(() => parseManifestBytes(enc({ schemaVersion: 2 })), 'has neither "manifests"');
});

test('unknown and schema 1 media types are named', () => {
  throwsStoreError(() => parseManifestBytes(enc(manifest()), 'application/vnd.example.thing+json'), 'content type "application/vnd.example.thing+json" is not a supported manifest media type');
  throwsStoreError(() => parseManifestBytes(enc(manifest({ mediaType: 'application/vnd.example.thing+json' }))), 'manifest: mediaType "application/vnd.example.thing+json" is not a supported manifest media type');
  throwsStoreError(() => parseManifestBytes(enc({ schemaVersion: 1, name: 'x', fsLayers: [] })), 'Docker schema 1');
  throwsStoreError(() => parseManifestBytes(enc(manifest()), MT.DOCKER_SCHEMA1_SIGNED_MANIFEST), 'Docker schema 1');
  throwsStoreError(() => parseManifestBytes(enc(manifest({ mediaType: 3 }))), 'manifest: mediaType must be a string, got 3');
});

test('schemaVersion must be 2', () => {
  throwsStoreError(() => parseManifestBytes(enc(manifest({ schemaVersion: 3 }))), 'manifest: schemaVersion must be 2, got 3');
  throwsStoreError(() => parseManifestBytes(enc(manifest({ schemaVersion: '2' }))), 'schemaVersion must be 2, got "2"');
  const m = manifest();
  delete m.schemaVersion;
  throwsStoreError(() => parseManifestBytes(enc(m)), 'schemaVersion must be 2, got missing');
});

test('size cap is checked before parsing', () => {
  assert.is(MAX_MANIFEST_BYTES, 4 * 1024 * 1024);
  assert.is(MAX_CONFIG_BYTES, 8 * 1024 * 1024);
  const big = new Uint8Array(MAX_MANIFEST_BYTES + 1).fill(0x20); // would parse as nothing useful anyway
  throwsStoreError(() => parseManifestBytes(big), `larger than the limit of ${MAX_MANIFEST_BYTES} bytes`);
  const bigConfig = new Uint8Array(MAX_CONFIG_BYTES + 1).fill(0x20);
  throwsStoreError(() => parseImageConfig(bigConfig), /^config: \d+ bytes is larger than the limit/);
});

test('bad bytes: not JSON, not UTF-8, not an object', () => {
  throwsStoreError(() => parseManifestBytes(enc('{"schemaVersion": 2,')), /^manifest: invalid JSON: /);
  throwsStoreError(() => parseManifestBytes(new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])), 'manifest: not valid UTF-8');
  throwsStoreError(() => parseManifestBytes(enc('[1,2]')), 'manifest: must be a JSON object, got [1,2]');
  throwsStoreError(() => parseManifestBytes(enc('null')), 'must be a JSON object, got null');
  throwsStoreError(() => parseImageConfig(enc('"x"')), 'config: must be a JSON object');
});

test('descriptor errors name the field and index', () => {
  const bad = (layer: unknown) => enc(manifest({ layers: [{ mediaType: MT.OCI_LAYER_TAR, digest: D1, size: 1 }, layer, layer] }));
  throwsStoreError(() => parseManifestBytes(bad({ mediaType: MT.OCI_LAYER_TAR, digest: 'sha256:zz', size: 1 })), 'manifest: layers[1].digest "sha256:zz" is not a valid digest');
  throwsStoreError(() => parseManifestBytes(bad({ mediaType: MT.OCI_LAYER_TAR, digest: 'md5:abcd', size: 1 })), /layers\[1\]\.digest "md5:abcd" is not a valid digest \(use sha256 or sha512\)/);
  throwsStoreError(() => parseManifestBytes(bad({ mediaType: MT.OCI_LAYER_TAR, digest: 7, size: 1 })), 'layers[1].digest must be a digest string, got 7');
  throwsStoreError(() => parseManifestBytes(bad({ mediaType: MT.OCI_LAYER_TAR, digest: D1, size: -1 })), 'layers[1].size must be a non-negative integer, got -1');
  throwsStoreError(() => parseManifestBytes(bad({ mediaType: MT.OCI_LAYER_TAR, digest: D1, size: 1.5 })), 'layers[1].size must be a non-negative integer');
  throwsStoreError(() => parseManifestBytes(bad({ mediaType: MT.OCI_LAYER_TAR, digest: D1, size: 2 ** 60 })), 'layers[1].size must be a non-negative integer');
  throwsStoreError(() => parseManifestBytes(bad({ mediaType: MT.OCI_LAYER_TAR, digest: D1 })), 'layers[1].size must be a non-negative integer, got missing');
  throwsStoreError(() => parseManifestBytes(bad({ digest: D1, size: 1 })), 'layers[1].mediaType must be a string, got missing');
  throwsStoreError(() => parseManifestBytes(bad({ mediaType: '', digest: D1, size: 1 })), 'layers[1].mediaType must not be empty');
  throwsStoreError(() => parseManifestBytes(bad('x')), 'layers[1] must be a descriptor object, got "x"');
  throwsStoreError(() => parseManifestBytes(bad({ mediaType: 'a', digest: D1, size: 1, urls: 'http://x' })), 'layers[1].urls must be an array of strings');
  throwsStoreError(() => parseManifestBytes(bad({ mediaType: 'a', digest: D1, size: 1, urls: ['file:///etc/passwd'] })), 'layers[1].urls[0] "file:///etc/passwd" is not an http or https URL');
  throwsStoreError(() => parseManifestBytes(bad({ mediaType: 'a', digest: D1, size: 1, annotations: { k: 1 } })), 'layers[1].annotations["k"] must be a string, got 1');
  throwsStoreError(() => parseManifestBytes(bad({ mediaType: 'a', digest: D1, size: 1, annotations: [] })), 'layers[1].annotations must be an object of strings');
  throwsStoreError(() => parseManifestBytes(enc(manifest({ config: { mediaType: 'a', digest: D1, size: '1' } }))), 'manifest: config.size must be a non-negative integer, got "1"');
  throwsStoreError(() => parseManifestBytes(enc(manifest({ layers: {} }))), 'manifest: layers must be an array, got {}');
  throwsStoreError(() => parseManifestBytes(enc(manifest({ annotations: { a: null } }))), 'manifest: annotations["a"] must be a string, got null');
  throwsStoreError(() => parseManifestBytes(enc(manifest({ subject: { digest: D1 } }))), 'manifest: subject.mediaType must be a string');
});

test('index entries: platform shapes are checked', () => {
  const entry = (platform: unknown) => enc(index({ manifests: [{ mediaType: MT.OCI_MANIFEST, digest: D1, size: 1, platform }] }));
  throwsStoreError(() => parseManifestBytes(entry({ os: 'linux' })), 'manifest: manifests[0].platform.architecture must be a string, got missing');
  throwsStoreError(() => parseManifestBytes(entry({ os: 'linux', architecture: 'arm', variant: 7 })), 'manifests[0].platform.variant must be a string, got 7');
  throwsStoreError(() => parseManifestBytes(entry({ os: 'linux', architecture: 'amd64', features: 'sse4' })), 'manifests[0].platform.features must be an array of strings');
  throwsStoreError(() => parseManifestBytes(entry({ os: 'windows', architecture: 'amd64', 'os.features': [1] })), 'manifests[0].platform.os.features[0] must be a string, got 1');
  throwsStoreError(() => parseManifestBytes(entry('linux/amd64')), 'manifests[0].platform must be an object');
  throwsStoreError(() => parseManifestBytes(enc(index({ manifests: null }))), 'manifest: manifests must be an array, got null');
  const ok = parseManifestBytes(entry({ os: 'windows', architecture: 'amd64', 'os.version': '10.0.17763.1', 'os.features': ['win32k'] }));
  assert.is(ok.kind, 'index');
});

test('validateDescriptor', () => {
  const d = validateDescriptor({ mediaType: MT.OCI_INDEX, digest: D1, size: 3 }, 'index.json manifests[0]', 'oci layout');
  assert.is(d.size, 3);
  throwsStoreError(() => validateDescriptor({ mediaType: MT.OCI_INDEX, digest: 'sha256:abc', size: 3 }, 'index.json manifests[0]', 'oci layout'), /^oci layout: index\.json manifests\[0\]\.digest "sha256:abc" is not a valid digest/);
});

// ------------------------------------------------------------------ configs

test('parses an image config', () => {
  const c = parseImageConfig(enc(config()));
  assert.is(c.architecture, 'amd64');
  assert.equal(c.rootfs.diff_ids, [D1, D2]);
  assert.is(c.history!.length, 2);
  // Docker configs with nulls and extra fields are fine.
  const d = parseImageConfig(enc(config({ config: { Cmd: null, Entrypoint: null, Env: null, Labels: null, OnBuild: null }, container_config: {}, docker_version: '20' })));
  assert.is(d.config!.Cmd, null);
  assert.ok(parseImageConfig(enc(config({ history: null }))));
});

test('config errors name the field', () => {
  throwsStoreError(() => parseImageConfig(enc(config({ architecture: undefined }))), 'config: architecture must be a string, got missing');
  throwsStoreError(() => parseImageConfig(enc(config({ os: '' }))), 'config: os must not be empty');
  throwsStoreError(() => parseImageConfig(enc(config({ os: 5 }))), 'config: os must be a string, got 5');
  throwsStoreError(() => parseImageConfig(enc(config({ rootfs: undefined }))), 'config: rootfs must be an object, got missing');
  throwsStoreError(() => parseImageConfig(enc(config({ rootfs: { type: 'tarball', diff_ids: [] } }))), 'config: rootfs.type must be "layers", got "tarball"');
  throwsStoreError(() => parseImageConfig(enc(config({ rootfs: { type: 'layers' } }))), 'config: rootfs.diff_ids must be an array, got missing');
  throwsStoreError(() => parseImageConfig(enc(config({ rootfs: { type: 'layers', diff_ids: [D1, 'sha256:1234'] } }))), 'config: rootfs.diff_ids[1] "sha256:1234" is not a valid digest');
  throwsStoreError(() => parseImageConfig(enc(config({ config: { Env: ['PATH'] } }))), 'config: config.Env[0] "PATH" is not NAME=value');
  throwsStoreError(() => parseImageConfig(enc(config({ config: { Cmd: 'sh -c x' } }))), 'config: config.Cmd must be an array of strings');
  throwsStoreError(() => parseImageConfig(enc(config({ config: { Labels: { a: 1 } } }))), 'config: config.Labels["a"] must be a string, got 1');
  throwsStoreError(() => parseImageConfig(enc(config({ config: { User: 0 } }))), 'config: config.User must be a string, got 0');
  throwsStoreError(() => parseImageConfig(enc(config({ config: [] }))), 'config: config must be an object');
  throwsStoreError(() => parseImageConfig(enc(config({ history: {} }))), 'config: history must be an array');
  throwsStoreError(() => parseImageConfig(enc(config({ history: [{}, { empty_layer: 'yes' }] }))), 'config: history[1].empty_layer must be a boolean, got "yes"');
  throwsStoreError(() => parseImageConfig(enc(config({ history: [{ created_by: ['x'] }] }))), 'config: history[0].created_by must be a string');
  throwsStoreError(() => parseImageConfig(enc(config({ variant: 8 }))), 'config: variant must be a string');
});

test('configs and manifests use distinct error codes', () => {
  try {
    parseImageConfig(enc('{'));
  } catch (err) {
    assert.is((err as StoreError).code, 'PKIT_BAD_CONFIG');
  }
  try {
    parseManifestBytes(enc('{'));
  } catch (err) {
    assert.is((err as StoreError).code, 'PKIT_BAD_MANIFEST');
  }
});

// ------------------------------------------------------------------ platforms

test('currentPlatform maps Node arch names', () => {
  assert.equal(currentPlatform('x64', 'linux'), { os: 'linux', architecture: 'amd64' });
  assert.equal(currentPlatform('arm64', 'linux'), { os: 'linux', architecture: 'arm64' });
  assert.equal(currentPlatform('arm', 'linux'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.equal(currentPlatform('ia32', 'win32'), { os: 'windows', architecture: '386' });
  assert.equal(currentPlatform('ppc64', 'linux'), { os: 'linux', architecture: 'ppc64le' });
  assert.equal(currentPlatform('s390x', 'linux'), { os: 'linux', architecture: 's390x' });
  assert.is(typeof currentPlatform().architecture, 'string');
});

test('normalizePlatform and platformMatches', () => {
  assert.equal(normalizePlatform({ os: 'Linux', architecture: 'x86_64' }), { os: 'linux', architecture: 'amd64' });
  assert.equal(normalizePlatform({ os: 'linux', architecture: 'aarch64', variant: 'v8' }), { os: 'linux', architecture: 'arm64' });
  assert.equal(normalizePlatform({ os: 'linux', architecture: 'arm' }), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.equal(normalizePlatform({ os: 'linux', architecture: 'armhf' }), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.equal(normalizePlatform({ os: 'linux', architecture: 'armel' }), { os: 'linux', architecture: 'arm', variant: 'v6' });
  assert.equal(normalizePlatform({ os: 'linux', architecture: 'arm', variant: '6' }), { os: 'linux', architecture: 'arm', variant: 'v6' });
  assert.equal(normalizePlatform({ os: 'linux', architecture: 'i386' }), { os: 'linux', architecture: '386' });
  assert.ok(platformMatches({ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'arm64', variant: 'v8' }));
  assert.ok(platformMatches({ os: 'linux', architecture: 'arm64', variant: 'v8' }, { os: 'linux', architecture: 'arm64' }));
  assert.ok(platformMatches({ os: 'linux', architecture: 'amd64' }, { os: 'linux', architecture: 'x86_64' }));
  assert.ok(platformMatches({ os: 'linux', architecture: 'arm' }, { os: 'linux', architecture: 'arm', variant: 'v7' }));
  assert.not.ok(platformMatches({ os: 'linux', architecture: 'arm', variant: 'v6' }, { os: 'linux', architecture: 'arm', variant: 'v7' }));
  assert.not.ok(platformMatches({ os: 'linux', architecture: 'arm64' }, { os: 'linux', architecture: 'arm64', variant: 'v9' }));
  assert.not.ok(platformMatches({ os: 'linux', architecture: 'amd64' }, { os: 'windows', architecture: 'amd64' }));
  assert.not.ok(platformMatches({ os: 'linux', architecture: 'amd64' }, undefined));
});

test('parsePlatform and formatPlatform', () => {
  assert.equal(parsePlatform('linux/arm/v7'), { os: 'linux', architecture: 'arm', variant: 'v7' });
  assert.equal(parsePlatform('linux/amd64'), { os: 'linux', architecture: 'amd64' });
  assert.equal(parsePlatform('arm64'), { os: 'linux', architecture: 'arm64' });
  assert.is(formatPlatform({ os: 'linux', architecture: 'arm', variant: 'v7' }), 'linux/arm/v7');
  throwsStoreError(() => parsePlatform('linux//amd64'), 'invalid platform "linux//amd64"');
  throwsStoreError(() => parsePlatform('a/b/c/d'), 'invalid platform');
  throwsStoreError(() => parsePlatform(''), 'invalid platform');
});

const multi: ImageIndex = {
  schemaVersion: 2,
  manifests: [
    { mediaType: MT.OCI_MANIFEST, digest: D1, size: 1, platform: { os: 'linux', architecture: 'amd64' } },
    { mediaType: MT.OCI_MANIFEST, digest: D2, size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
    { mediaType: MT.OCI_MANIFEST, digest: D3, size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
    { mediaType: MT.OCI_MANIFEST, digest: digestOf('v7'), size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v7' } },
    { mediaType: MT.OCI_MANIFEST, digest: digestOf('att'), size: 1, platform: { os: 'unknown', architecture: 'unknown' } },
    { mediaType: MT.OCI_MANIFEST, digest: digestOf('np'), size: 1 },
  ],
};

test('selectPlatform picks the exact entry, with containerd-style variants', () => {
  assert.is(selectPlatform(multi, { os: 'linux', architecture: 'amd64' }).digest, D1);
  assert.is(selectPlatform(multi, { os: 'linux', architecture: 'arm64' }).digest, D2);
  assert.is(selectPlatform(multi, { os: 'linux', architecture: 'aarch64', variant: 'v8' }).digest, D2);
  assert.is(selectPlatform(multi, { os: 'linux', architecture: 'arm' }).digest, digestOf('v7'));
  assert.is(selectPlatform(multi, { os: 'linux', architecture: 'arm', variant: 'v6' }).digest, D3);
  // arm64 without a variant in the index matches a v8 request
  const idx: ImageIndex = { schemaVersion: 2, manifests: [{ mediaType: MT.OCI_MANIFEST, digest: D3, size: 1, platform: { os: 'linux', architecture: 'arm64' } }] };
  assert.is(selectPlatform(idx, { os: 'linux', architecture: 'arm64', variant: 'v8' }).digest, D3);
  assert.is(selectPlatform(idx, currentPlatform('arm64', 'linux')).digest, D3);
});

test('selectPlatform falls back to compatible older variants', () => {
  const idx: ImageIndex = {
    schemaVersion: 2,
    manifests: [
      { mediaType: MT.OCI_MANIFEST, digest: D1, size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v5' } },
      { mediaType: MT.OCI_MANIFEST, digest: D2, size: 1, platform: { os: 'linux', architecture: 'arm', variant: 'v6' } },
      { mediaType: MT.OCI_MANIFEST, digest: D3, size: 1, platform: { os: 'linux', architecture: 'amd64' } },
    ],
  };
  assert.is(selectPlatform(idx, { os: 'linux', architecture: 'arm', variant: 'v7' }).digest, D2);
  assert.is(selectPlatform(idx, { os: 'linux', architecture: 'amd64', variant: 'v3' }).digest, D3);
  throwsStoreError(() => selectPlatform(idx, { os: 'linux', architecture: 'arm', variant: 'v4' }), 'no image for platform linux/arm/v4', NotFoundError);
});

test('selectPlatform: no match lists what there is', () => {
  throwsStoreError(
    () => selectPlatform(multi, { os: 'linux', architecture: 's390x' }),
    'no image for platform linux/s390x in the index; available: linux/amd64, linux/arm64/v8, linux/arm/v6, linux/arm/v7',
    NotFoundError,
  );
  throwsStoreError(() => selectPlatform(multi, { os: 'windows', architecture: 'amd64' }), 'windows/amd64', NotFoundError);
  throwsStoreError(() => selectPlatform({ schemaVersion: 2, manifests: [] }, { os: 'linux', architecture: 'amd64' }), 'it lists no platforms', NotFoundError);
  // An arm64 host cannot run a v9-only image.
  const v9: ImageIndex = { schemaVersion: 2, manifests: [{ mediaType: MT.OCI_MANIFEST, digest: D1, size: 1, platform: { os: 'linux', architecture: 'arm64', variant: 'v9' } }] };
  throwsStoreError(() => selectPlatform(v9, { os: 'linux', architecture: 'arm64' }), 'available: linux/arm64/v9', NotFoundError);
});

test.run();
