// `pbuild build -o/--output`: the built image's files exported as well, as buildah does:
// `type=local,dest=DIR` (or just `DIR`) extracts them into a host directory, owned by the
// calling user; `type=tar,dest=FILE` writes one tar with the image's owners; dest `-` is
// stdout (a tar). The files come out of a working container on the image through the same
// container-side script as `prun cp` (streamed), and the container is removed again.
import { spawn } from 'node:child_process';
import { createWriteStream, mkdirSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { badInput as bad, StoreError } from '@pkit/storage/errors';
import type { Store } from '@pkit/storage/store';
import { collectStderr, containerFiles, exitCodeOf, reasons } from '@pkit/runtime/container-files';
import { withWorkingContainer } from './interrupt.ts';
import { helper } from './working.ts';

export interface OutputSpec {
  type: 'local' | 'tar';
  /** a path, or '-' for stdout */
  dest: string;
}

/** buildah's --output value: `type=local|tar,dest=PATH`, a bare PATH (local), or `-` (tar on stdout). */
export function parseOutput(value: string): OutputSpec {
  if (value === '-') return { type: 'tar', dest: '-' };
  if (!value.includes('=')) return { type: 'local', dest: value };
  const fields = new Map<string, string>();
  for (const part of value.split(',')) {
    const eq = part.indexOf('=');
    if (eq <= 0) throw bad(`--output ${value}: expected type=local|tar,dest=PATH`);
    fields.set(part.slice(0, eq), part.slice(eq + 1));
  }
  for (const k of fields.keys()) if (k !== 'type' && k !== 'dest') throw bad(`--output ${value}: unknown key "${k}" (use type and dest)`);
  const type = fields.get('type') ?? 'local';
  if (type !== 'local' && type !== 'tar') throw bad(`--output ${value}: type "${type}" is not supported: use local or tar`);
  const dest = fields.get('dest');
  if (!dest) throw bad(`--output ${value}: dest=PATH is required`);
  if (type === 'local' && dest === '-') throw bad(`--output ${value}: a local output needs a directory; use type=tar for stdout`);
  return { type, dest };
}

export async function exportImage(store: Store, image: string, out: OutputSpec): Promise<void> {
  await withWorkingContainer(store, image, async (rec) => {
    const fs = containerFiles(store, rec, { helper: helper() });
    // the root's contents, names without "./", owners kept
    const producer = fs.run('get', ['/', '1', '1', '', ''], ['ignore', 'pipe', 'pipe']);
    const producerErr = collectStderr(producer.child);
    let consumer: Promise<number> = Promise.resolve(0);
    let consumerErr = () => '';
    if (out.type === 'tar' && out.dest !== '-') {
      consumer = pipeline(producer.child.stdout!, createWriteStream(out.dest)).then(() => 0);
    } else if (out.type === 'tar') {
      // a reader may stop at the tar's end marker, before its padding: not an error
      process.stdout.on('error', () => producer.child.kill());
      producer.child.stdout!.pipe(process.stdout, { end: false });
    } else {
      mkdirSync(out.dest, { recursive: true });
      // as the calling user: the files become ours (the image's owners cannot be kept rootless)
      const tar = spawn('tar', ['-x', '--no-same-owner', '--no-same-permissions', '--delay-directory-restore', '-C', out.dest, '-f', '-'], { stdio: ['pipe', 'ignore', 'pipe'] });
      consumerErr = collectStderr(tar);
      consumer = exitCodeOf(tar);
      // tar stops reading at the archive's end marker; the padding after it may find the pipe
      // closed, which is no error (its exit code says how the extraction went)
      tar.stdin!.on('error', () => {});
      producer.child.stdout!.pipe(tar.stdin!);
    }
    // both sides are awaited, so a failure of one never leaves the other's unhandled
    const [made, taken] = await Promise.allSettled([producer.exitCode, consumer]);
    if (taken.status === 'rejected') throw bad(`--output ${out.dest}: ${(taken.reason as Error).message}`);
    if (taken.value !== 0) throw bad(`--output ${out.dest}: extracting failed: ${reasons(consumerErr()).join('; ') || `tar exit ${taken.value}`}`);
    const code = made.status === 'fulfilled' ? made.value : 1;
    if (code !== 0) throw new StoreError(`exporting the image's files failed: ${reasons(producerErr()).join('; ') || `exit ${code}`}`, 'PKIT_CONTAINER');
  });
}
