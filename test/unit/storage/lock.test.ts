import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { readFile } from 'node:fs/promises';
import { FileLock, withLock } from '../../../packages/storage/src/lock.ts';
import { ScratchArea, cleanAbandonedScratch } from '../../../packages/storage/src/tmp.ts';
import { startWorker, tempDir, waitFor } from './helpers.ts';

test('an exclusive lock held by another process blocks tryAcquire until it dies', async () => {
  const path = join(tempDir('lock'), 'x.lock');
  const w = startWorker('hold-lock', [path, 'exclusive', '60000']);
  await waitFor(() => w.output().includes('locked'), 10000, 'the worker to lock');
  assert.is(FileLock.tryAcquire(path), undefined);
  assert.is(FileLock.tryAcquire(path, 'shared'), undefined);
  w.child.kill('SIGKILL');
  await w.done;
  const mine = FileLock.tryAcquire(path);
  assert.ok(mine, 'a dead holder\'s lock is free');
  mine!.release();
});

test('shared locks coexist; an exclusive one waits for them without blocking the event loop', async () => {
  const path = join(tempDir('lock'), 'x.lock');
  const w = startWorker('hold-lock', [path, 'shared', '400']);
  await waitFor(() => w.output().includes('locked'), 10000, 'the worker to lock');
  const shared = FileLock.tryAcquire(path, 'shared');
  assert.ok(shared);
  shared!.release();
  let ticks = 0;
  const timer = setInterval(() => ticks++, 20);
  const lock = await FileLock.acquire(path, 'exclusive');
  clearInterval(timer);
  const got = Date.now();
  await w.done;
  const released = Number(/released (\d+)/.exec(w.output())![1]);
  assert.ok(got >= released, 'granted only after the shared holder released');
  assert.ok(ticks >= 5, `the event loop ran while waiting (${ticks} ticks)`);
  lock.release();
});

test('scratch: a live area survives cleaning, a closed or dead one does not', () => {
  const tmp = join(tempDir('scratch'), 'tmp');
  const a = new ScratchArea(tmp);
  const p = a.path('blob');
  mkdirSync(p);
  assert.equal(cleanAbandonedScratch(tmp), []);
  assert.ok(existsSync(p));
  a.close();
  assert.equal(readdirSync(tmp), []);
  // debris with no lock file at all (its lock was removed by an earlier cleaner mid-way)
  mkdirSync(join(tmp, '999-deadbeef', 'x'), { recursive: true });
  assert.equal(cleanAbandonedScratch(tmp), ['999-deadbeef']);
  assert.equal(readdirSync(tmp), []);
  rmSync(tmp, { recursive: true });
});

test('in one process, many waiters on one lock are served in turn without starving the pool', async () => {
  const path = join(tempDir('lock'), 'x.lock');
  let inside = 0;
  let maxInside = 0;
  const order: number[] = [];
  await Promise.all(
    Array.from({ length: 12 }, (_, i) =>
      withLock(path, 'exclusive', async () => {
        inside++;
        maxInside = Math.max(maxInside, inside);
        // fs work on the pool while others wait: it would hang if waiters held pool threads
        await readFile(path);
        order.push(i);
        inside--;
      }),
    ),
  );
  assert.is(maxInside, 1);
  assert.is(order.length, 12);
});

test('in one process, shared holders share; an exclusive request waits for all of them', async () => {
  const path = join(tempDir('lock'), 'x.lock');
  const a = await FileLock.acquire(path, 'shared');
  const b = await FileLock.acquire(path, 'shared');
  let granted = false;
  const ex = FileLock.acquire(path, 'exclusive').then((l) => ((granted = true), l));
  await new Promise((r) => setTimeout(r, 30));
  assert.not.ok(granted);
  assert.is(FileLock.tryAcquire(path, 'shared'), undefined, 'a queued exclusive request is not overtaken');
  a.release();
  await new Promise((r) => setTimeout(r, 30));
  assert.not.ok(granted);
  b.release();
  (await ex).release();
  assert.ok(granted);
});

test.run();
