// newgidmap and newuidmap (run side by side by pkit-runtime, native/helper/idmap.c): the maps
// they write, and their failures: one line naming the helper and the file to check (newgidmap's
// first when both fail), exit 125, no state left.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { bundle, gid, helper, nextId, subRange, uid, work, type BundleOptions } from './bundle.ts';

const t = suite('id maps through newuidmap/newgidmap');
t.before(() => { helper(); });

const sub = subRange('/etc/subuid'), subg = subRange('/etc/subgid');

function run(o: BundleOptions, env: Record<string, string> = {}) {
  const root = mkdtempSync(join(work, 'idmap-root-'));
  const [cmd, ...args] = [helper(), '--root', root, 'run', '--bundle', bundle(o), nextId('idm')];
  const r = spawnSync(cmd!, args, { encoding: 'utf8', input: '', timeout: 30_000, env: { ...process.env, ...env } });
  return { ...r, left: readdirSync(root) };
}

/** Multi-range maps with the subordinate range moved past what /etc/sub?id grants. */
const outside = (which: ('uid' | 'gid')[]) => (c: Record<string, any>) => {
  if (which.includes('uid')) c.linux.uidMappings[1].hostID = sub!.start + sub!.count;
  if (which.includes('gid')) c.linux.gidMappings[1].hostID = subg!.start + subg!.count;
};

t('both maps written (several runs: the helpers race each other)', () => {
  if (!sub || !subg) return;
  for (let i = 0; i < 5; i++) {
    const r = run({ args: ['sh', '-c', 'cat /proc/self/uid_map /proc/self/gid_map'], multiRange: true });
    assert.is(r.status, 0, r.stderr);
    const norm = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    assert.equal(norm, [`0 ${uid} 1`, `1 ${sub.start} ${sub.count}`, `0 ${gid} 1`, `1 ${subg.start} ${subg.count}`]);
  }
});

t('a uid range outside /etc/subuid: newuidmap\'s error', () => {
  if (!sub || !subg) return;
  const r = run({ args: ['true'], multiRange: true, mutate: outside(['uid']) });
  assert.is(r.status, 125);
  assert.match(r.stderr, /^pkit-runtime: newuidmap failed \(exit 1\): check the ranges in \/etc\/subuid for this user\n$/m);
  assert.equal(r.left, []);
});

t('a gid range outside /etc/subgid: newgidmap\'s error', () => {
  if (!sub || !subg) return;
  const r = run({ args: ['true'], multiRange: true, mutate: outside(['gid']) });
  assert.is(r.status, 125);
  assert.match(r.stderr, /^pkit-runtime: newgidmap failed \(exit 1\): check the ranges in \/etc\/subgid for this user\n$/m);
  assert.equal(r.left, []);
});

t('both outside: newgidmap\'s error, once', () => {
  if (!sub || !subg) return;
  const r = run({ args: ['true'], multiRange: true, mutate: outside(['uid', 'gid']) });
  assert.is(r.status, 125);
  const ours = r.stderr.split('\n').filter((l) => l.startsWith('pkit-runtime:'));
  assert.equal(ours, ['pkit-runtime: newgidmap failed (exit 1): check the ranges in /etc/subgid for this user']);
  assert.equal(r.left, []);
});

t('no newuidmap/newgidmap on PATH: names the package', () => {
  if (!sub || !subg) return;
  const empty = mkdtempSync(join(work, 'no-path-'));
  const r = run({ args: ['true'], multiRange: true }, { PATH: empty });
  assert.is(r.status, 125);
  assert.is(r.stderr, 'pkit-runtime: newgidmap not found: install the uidmap package\n');
  assert.equal(r.left, []);
  assert.ok(existsSync(empty));
});

t.run();
