// Image references with a transport, in skopeo's syntax, and opening them. Each transport's
// module is loaded only when a reference names it.
import { StoreError } from '../errors.ts';
import { copyImage, type CopyOptions, type CopyResult } from './copy.ts';
import type { ImageDestination, ImageSource, TransportOptions } from './types.ts';

export type TransportName = 'docker' | 'oci' | 'oci-archive' | 'docker-archive' | 'dir' | 'local';

export interface TransportReference {
  transport: TransportName;
  /** What follows the transport prefix (`host/repo:tag` for docker, `DIR[:REF]` for oci, ...). */
  spec: string;
}

const PREFIXES: [string, TransportName][] = [
  ['docker://', 'docker'],
  ['oci-archive:', 'oci-archive'],
  ['docker-archive:', 'docker-archive'],
  ['oci:', 'oci'],
  ['dir:', 'dir'],
  ['local:', 'local'],
  ['containers-storage:', 'local'],
];

export const TRANSPORT_SYNTAX = 'docker://REF, oci:DIR[:REF], oci-archive:FILE[:REF], docker-archive:FILE[:REF], dir:DIR, local:NAME (containers-storage:NAME)';

export function parseTransportReference(s: string): TransportReference {
  for (const [prefix, transport] of PREFIXES) {
    if (s.startsWith(prefix)) {
      const spec = s.slice(prefix.length);
      if (spec === '') throw new StoreError(`invalid image reference "${s}": nothing after "${prefix}"`, 'PKIT_BAD_REFERENCE');
      return { transport, spec };
    }
  }
  const hint = /^[a-z0-9.-]+(:\d+)?\//.test(s) || !s.includes(':') ? ` (did you mean "docker://${s}"?)` : '';
  throw new StoreError(`invalid image reference "${s}": expected a transport, one of ${TRANSPORT_SYNTAX}${hint}`, 'PKIT_BAD_REFERENCE');
}

export async function openSource(ref: string, opts: TransportOptions = {}): Promise<ImageSource> {
  const { transport, spec } = parseTransportReference(ref);
  switch (transport) {
    case 'docker':
      return (await import('./docker.ts')).openDockerSource(spec, opts);
    case 'oci':
      return (await import('./oci-layout.ts')).openOciSource(spec, opts);
    case 'oci-archive':
      return (await import('./oci-archive.ts')).openOciArchiveSource(spec, opts);
    case 'docker-archive':
      return (await import('./docker-archive.ts')).openDockerArchiveSource(spec, opts);
    case 'dir':
      return (await import('./dir.ts')).openDirSource(spec, opts);
    case 'local':
      return (await import('./local.ts')).openLocalSource(spec, opts);
  }
}

export async function openDestination(ref: string, opts: TransportOptions = {}): Promise<ImageDestination> {
  const { transport, spec } = parseTransportReference(ref);
  switch (transport) {
    case 'docker':
      return (await import('./docker.ts')).openDockerDestination(spec, opts);
    case 'oci':
      return (await import('./oci-layout.ts')).openOciDestination(spec, opts);
    case 'oci-archive':
      return (await import('./oci-archive.ts')).openOciArchiveDestination(spec, opts);
    case 'docker-archive':
      return (await import('./docker-archive.ts')).openDockerArchiveDestination(spec, opts);
    case 'dir':
      return (await import('./dir.ts')).openDirDestination(spec, opts);
    case 'local':
      return (await import('./local.ts')).openLocalDestination(spec, opts);
  }
}

export interface CopyByReferenceOptions extends CopyOptions {
  src?: TransportOptions;
  dst?: TransportOptions;
}

/**
 * Opens both ends, copies, and closes them. On any failure the destination is closed without a
 * commit, so nothing new is visible under its name.
 */
export async function copyByReference(srcRef: string, dstRef: string, opts: CopyByReferenceOptions = {}): Promise<CopyResult> {
  const src = await openSource(srcRef, opts.src);
  try {
    const dst = await openDestination(dstRef, opts.dst);
    try {
      return await copyImage(src, dst, opts);
    } finally {
      await dst.close();
    }
  } finally {
    await src.close();
  }
}
