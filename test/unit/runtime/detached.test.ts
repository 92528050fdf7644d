// startDetached / readLog / followLog (packages/runtime/src/detached.ts) on the native
// helper's `run --detach` monitor, with bundles as the runtime-helper tests build them.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { DetachedError, followLog, readLog, startDetached } from '../../../packages/runtime/src/detached.ts';
import type { LogRecord } from '../../../packages/runtime/src/detached.ts';
import { bundle, helper, nextId, work } from '../runtime-helper/bundle.ts';

const t = suite('runtime: detached containers');
const root = join(work, 'state-detached');
const runtime = () => ({ path: helper(), kind: 'pkit-runtime' as const });
t.before(() => { helper(); });
// a failed test leaves no container (nor monitor) running
t.after(() => {
  if (!existsSync(root)) return;
  for (const id of readdirSync(root)) spawnSync(helper(), ['--root', root, 'delete', '--force', id]);
});

function start(args: string[]) {
  const id = nextId('det');
  return startDetached({
    runtime: runtime(), root, bundle: bundle({ args }), id,
    logPath: join(work, `${id}.log`), exitDir: join(work, 'exits'),
  });
}

async function rejects(fn: () => Promise<unknown>, check: (e: Error) => boolean): Promise<void> {
  let err: unknown;
  try { await fn(); } catch (e) { err = e; }
  assert.ok(err instanceof Error, 'expected a rejection');
  assert.ok(check(err as Error), `unexpected error: ${(err as Error).message}`);
}

async function collect(it: AsyncIterable<LogRecord>): Promise<LogRecord[]> {
  const out: LogRecord[] = [];
  for await (const r of it) out.push(r);
  return out;
}

t('exit code and the k8s-file log of a finished container', async () => {
  const h = await start(['sh', '-c', 'echo hi; echo err >&2; exit 4']);
  assert.ok(h.pid > 0 && h.monitorPid > 0 && h.pid !== h.monitorPid);
  assert.is(await h.wait(), 4);
  assert.is(await h.wait(), 4, 'wait() again gives the same code');
  const recs = await collect(readLog(h.logPath));
  assert.equal(recs.map(({ stream, partial, text }) => ({ stream, partial, text })).sort((a, b) => a.stream.localeCompare(b.stream)), [
    { stream: 'stderr', partial: false, text: 'err' },
    { stream: 'stdout', partial: false, text: 'hi' },
  ]);
  for (const r of recs) assert.match(r.time, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  await h.delete();
  assert.not.ok(existsSync(join(root, h.id)), 'delete() removes the state');
  assert.ok(existsSync(h.exitFile), 'the exit file stays');
});

t('kill(KILL) gives 137; delete() removes it', async () => {
  const h = await start(['sleep', '30']);
  await h.kill('KILL');
  assert.is(await h.wait(), 137);
  await h.delete();
  assert.not.ok(existsSync(join(root, h.id)));
  await h.delete(); // an unknown id is not an error
});

t('runtime errors are one-line DetachedErrors', async () => {
  const h = await start(['sleep', '30']);
  try {
    await rejects(() => startDetached({
      runtime: runtime(), root, bundle: bundle({ args: ['true'] }), id: h.id,
      logPath: join(work, 'dup.log'), exitDir: join(work, 'exits'),
    }), (e: Error) => e instanceof DetachedError && e.message.startsWith(`pkit-runtime run ${h.id}: `) && !e.message.includes('\n'));
  } finally {
    await h.delete({ force: true });
  }
  await rejects(() => h.kill('KILL'), (e: Error) => e instanceof DetachedError && !e.message.includes('\n'));
});

t('followLog: records as they are written, until the exit', async () => {
  const h = await start(['sh', '-c', 'echo one; sleep 0.3; printf two; sleep 0.2; echo; exit 0']);
  const recs = await collect(followLog(h.logPath, h.wait(), { intervalMs: 20 }));
  assert.is(await h.wait(), 0);
  assert.equal(recs.filter((r) => !r.partial).length >= 2, true);
  const joined = recs.reduce((acc, r) => acc + r.text + (r.partial ? '' : '\n'), '');
  assert.is(joined, 'one\ntwo\n');
  await h.delete();
});

t('readLog: a missing file has no records; a malformed line is an error', async () => {
  assert.equal(await collect(readLog(join(work, 'nope.log'))), []);
  const bad = join(work, 'bad.log');
  writeFileSync(bad, '2024-01-01T00:00:00.000000000Z stdout F ok\nnot a record\n');
  await rejects(() => collect(readLog(bad)), (e: Error) => e instanceof DetachedError && e.message.includes(':2:'));
});

t.run();
