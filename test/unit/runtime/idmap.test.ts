import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  computeIDMappings,
  isMapped,
  keepIdMapping,
  parseSubidFile,
  parseUsernsMode,
  rootlessMapping,
  subidRangesFor,
} from '../../../packages/runtime/src/idmap.ts';
import type { IdmapHost } from '../../../packages/runtime/src/idmap.ts';

function host(files: Record<string, string>, over: Partial<IdmapHost> = {}): IdmapHost {
  return {
    uid: 1001,
    gid: 1001,
    userName: 'alice',
    subuidPath: '/etc/subuid',
    subgidPath: '/etc/subgid',
    readFile: (p) => files[p],
    ...over,
  };
}

test('parseSubidFile: names and numeric owners, comments, blanks, malformed lines skipped', () => {
  const text = [
    '# comment',
    '',
    'alice:100000:65536',
    '  bob:165536:65536  ',
    '1001:300000:1000',
    'broken line',
    'carol:x:10',
    'dave:10:0',
    'erin:1:2:3',
  ].join('\n');
  assert.equal(parseSubidFile(text), [
    { owner: 'alice', start: 100000, count: 65536 },
    { owner: 'bob', start: 165536, count: 65536 },
    { owner: '1001', start: 300000, count: 1000 },
  ]);
});

test('subidRangesFor: every range of the user by name or uid, in file order', () => {
  const entries = parseSubidFile('alice:100000:10\nbob:5:5\n1001:200000:20\nalice:300000:30\n');
  assert.equal(subidRangesFor(entries, 'alice', 1001), [
    { start: 100000, count: 10 },
    { start: 200000, count: 20 },
    { start: 300000, count: 30 },
  ]);
  assert.equal(subidRangesFor(entries, 'nobody', 4242), []);
});

test('rootless default: 0 -> own uid, 1.. -> ranges concatenated', () => {
  assert.equal(rootlessMapping(1001, [{ start: 100000, count: 65536 }]), [
    { containerID: 0, hostID: 1001, size: 1 },
    { containerID: 1, hostID: 100000, size: 65536 },
  ]);
  assert.equal(rootlessMapping(1001, [{ start: 100000, count: 10 }, { start: 500000, count: 5 }]), [
    { containerID: 0, hostID: 1001, size: 1 },
    { containerID: 1, hostID: 100000, size: 10 },
    { containerID: 11, hostID: 500000, size: 5 },
  ]);
});

test('keep-id: 0..uid-1 from the range, uid -> uid, the rest after', () => {
  assert.equal(keepIdMapping(1001, 1001, [{ start: 100000, count: 65536 }]), [
    { containerID: 0, hostID: 100000, size: 1001 },
    { containerID: 1001, hostID: 1001, size: 1 },
    { containerID: 1002, hostID: 101001, size: 64535 },
  ]);
  // The low ids span two ranges; the rest continues in the second one.
  assert.equal(keepIdMapping(1001, 1001, [{ start: 100000, count: 600 }, { start: 200000, count: 1000 }]), [
    { containerID: 0, hostID: 100000, size: 600 },
    { containerID: 600, hostID: 200000, size: 401 },
    { containerID: 1001, hostID: 1001, size: 1 },
    { containerID: 1002, hostID: 200401, size: 599 },
  ]);
  // No range at all: only the user itself.
  assert.equal(keepIdMapping(1001, 1001, []), [{ containerID: 1001, hostID: 1001, size: 1 }]);
});

test('computeIDMappings: subid mapping from files', () => {
  const m = computeIDMappings(host({ '/etc/subuid': 'alice:100000:65536\n', '/etc/subgid': '1001:200000:65536\n' }));
  assert.is(m.userns, true);
  assert.is(m.kind, 'subid');
  assert.equal(m.warnings, []);
  assert.equal(m.uidMappings, [
    { containerID: 0, hostID: 1001, size: 1 },
    { containerID: 1, hostID: 100000, size: 65536 },
  ]);
  assert.equal(m.gidMappings, [
    { containerID: 0, hostID: 1001, size: 1 },
    { containerID: 1, hostID: 200000, size: 65536 },
  ]);
  assert.is(m.uidCount, 65537);
});

test('computeIDMappings: a user without ranges gets the single-id mapping and one warning line', () => {
  const m = computeIDMappings(host({ '/etc/subuid': 'bob:100000:65536\n' }, { uid: 1500, gid: 1600 }));
  assert.is(m.kind, 'single');
  assert.equal(m.uidMappings, [{ containerID: 0, hostID: 1500, size: 1 }]);
  assert.equal(m.gidMappings, [{ containerID: 0, hostID: 1600, size: 1 }]);
  assert.is(m.warnings.length, 1);
  assert.not.ok(m.warnings[0]!.includes('\n'));
  assert.match(m.warnings[0]!, /no subordinate ids for alice in \/etc\/subuid and \/etc\/subgid/);
});

test('computeIDMappings: a range only in subuid still falls back to single ids for both', () => {
  const m = computeIDMappings(host({ '/etc/subuid': 'alice:100000:65536\n', '/etc/subgid': '' }));
  assert.is(m.kind, 'single');
  assert.equal(m.uidMappings, [{ containerID: 0, hostID: 1001, size: 1 }]);
  assert.match(m.warnings[0]!, /in \/etc\/subgid:/);
});

test('computeIDMappings: root needs no user namespace', () => {
  const m = computeIDMappings(host({}, { uid: 0, gid: 0, userName: 'root' }));
  assert.is(m.userns, false);
  assert.is(m.kind, 'root');
  assert.equal(m.uidMappings, []);
});

test('computeIDMappings: keep-id, with and without uid/gid overrides', () => {
  const files = { '/etc/subuid': 'alice:100000:65536\n', '/etc/subgid': 'alice:100000:65536\n' };
  const m = computeIDMappings(host(files), { mode: 'keep-id' });
  assert.is(m.kind, 'keep-id');
  assert.equal(m.keepId, { uid: 1001, gid: 1001 });
  assert.equal(m.uidMappings[1], { containerID: 1001, hostID: 1001, size: 1 });
  assert.ok(isMapped(m.gidMappings, 5));
  const o = computeIDMappings(host(files), { mode: 'keep-id', uid: 10, gid: 20 });
  assert.equal(o.keepId, { uid: 10, gid: 20 });
  assert.equal(o.uidMappings, [
    { containerID: 0, hostID: 100000, size: 10 },
    { containerID: 10, hostID: 1001, size: 1 },
    { containerID: 11, hostID: 100010, size: 65526 },
  ]);
  assert.equal(o.gidMappings[1], { containerID: 20, hostID: 1001, size: 1 });
});

test('parseUsernsMode', () => {
  assert.equal(parseUsernsMode(undefined), { mode: 'auto' });
  assert.equal(parseUsernsMode('keep-id'), { mode: 'keep-id' });
  assert.equal(parseUsernsMode('keep-id:uid=5,gid=6'), { mode: 'keep-id', uid: 5, gid: 6 });
  assert.throws(() => parseUsernsMode('keep-id:size=5'), /unknown keep-id option "size=5"/);
  assert.throws(() => parseUsernsMode('auto'), /unsupported mode/);
});

test('the real /etc/subuid parses (whatever it holds)', () => {
  const m = computeIDMappings(host({}, { readFile: undefined, userName: 'pkit-test' }));
  assert.ok(m.uidMappings.length >= 1);
});

test.run();
