// -v, --mount and --tmpfs: what podman 4.3 accepts and refuses (its messages, after the spec),
// and the MountRequests they become, with volumes through a real store.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { StoreError } from '../../../packages/storage/src/errors.ts';
import { Store } from '../../../packages/storage/src/store.ts';
import {
  parseMountFlags,
  toMountRequests,
  volumesToReserve,
  type MountFlags,
  type VolumeMountRequest,
} from '../../../packages/prun/src/actions/mount-flags.ts';

const base = mkdtempSync(join(tmpdir(), 'pkit-mount-flags-'));
const host = join(base, 'hostdir');
mkdirSync(host);
mkdirSync(join(base, '.abc'));

const parse = (flags: MountFlags) => parseMountFlags(flags, { cwd: base });

function fails(flags: MountFlags, expected: string | RegExp): void {
  try {
    parse(flags);
  } catch (err) {
    assert.instance(err, StoreError);
    const msg = (err as Error).message;
    assert.not.match(msg, /\n/);
    if (typeof expected === 'string') assert.is(msg, expected);
    else assert.match(msg, expected);
    return;
  }
  assert.unreachable(`should fail: ${JSON.stringify(flags)}`);
}

test('-v HOST:CTR binds; sources starting with / or . are paths, made absolute', () => {
  assert.equal(parse({ volumes: [`${host}:/a`] }).mounts, [{ type: 'bind', source: host, destination: '/a' }]);
  assert.equal(parse({ volumes: ['./hostdir:/b/:ro,Z'] }).mounts, [{ type: 'bind', source: host, destination: '/b', readOnly: true }]);
  assert.equal(parse({ volumes: ['.abc:/c:rw,noexec,nosuid,nodev,rshared'] }).mounts, [
    { type: 'bind', source: join(base, '.abc'), destination: '/c', options: ['noexec', 'nosuid', 'nodev', 'rshared'] },
  ]);
});

test('-v NAME:CTR is a named volume (nosuid,nodev as podman), -v /CTR an anonymous one', () => {
  const plan = parse({ volumes: ['hostdir:/x:ro,noexec', 'data:/y:nocopy', '/z'] });
  const [named, nocopy, anon] = plan.mounts as VolumeMountRequest[];
  assert.equal(named, { type: 'volume', name: 'hostdir', anonymous: false, destination: '/x', readOnly: true, options: ['noexec', 'nosuid', 'nodev'], copyUp: true });
  assert.is(nocopy!.copyUp, false);
  assert.is(anon!.anonymous, true);
  assert.match(anon!.name, /^[a-f0-9]{64}$/);
  assert.equal(anon!.options, ['nosuid', 'nodev']);
  assert.equal((parse({ volumes: ['v:/s:suid,dev'] }).mounts[0] as VolumeMountRequest).options, ['suid', 'dev']);
});

test('-v errors: podman\'s reason after the spec', () => {
  fails({ volumes: ['/nonexist:/x'] }, 'statfs /nonexist: no such file or directory');
  fails({ volumes: ['./nonexist:/x'] }, `statfs ${join(base, 'nonexist')}: no such file or directory`);
  fails({ volumes: [`${host}:x`] }, `invalid volume spec "${host}:x": invalid container path "x", must be an absolute path`);
  fails({ volumes: [`${host}:/x:foo`] }, `invalid volume spec "${host}:/x:foo": invalid option type "foo"`);
  fails({ volumes: [`${host}:/x:ro,rw`] }, /invalid options "ro, rw", can only specify 1 'rw' or 'ro' option$/);
  fails({ volumes: [`${host}:/x:z,Z`] }, /can only specify 1 'z', 'Z', or 'O' option$/);
  fails({ volumes: [`${host}:/x:nosuid,suid`] }, /can only specify 1 'nosuid' or 'suid' option$/);
  fails({ volumes: [`${host}:/x:shared,private`] }, /can only specify 1 '\[r\]shared', '\[r\]private', '\[r\]slave' or '\[r\]unbindable' option$/);
  fails({ volumes: [`${host}:/x:ro:rw`] }, /incorrect volume format, should be \[host-dir:\]ctr-dir\[:option\]$/);
  fails({ volumes: [''] }, 'invalid volume spec "": container directory cannot be empty');
  fails({ volumes: [':/x'] }, 'invalid volume spec ":/x": host directory cannot be empty');
  fails({ volumes: ['bad name:/x'] }, 'invalid volume spec "bad name:/x": creating named volume "bad name": names must match [a-zA-Z0-9][a-zA-Z0-9_.-]*');
  fails({ volumes: ['~/x:/x'] }, /creating named volume "~\/x"/);
  fails({ volumes: [`${host}:/x:O`] }, /overlay volumes \(:O\) are not supported/);
});

test('the same spec twice is one mount; two mounts on one destination are refused', () => {
  assert.is(parse({ volumes: [`${host}:/x`, `${host}:/x`] }).mounts.length, 1);
  fails({ volumes: [`${host}:/x`, '/tmp:/x'] }, '/x: duplicate mount destination');
  fails({ volumes: [`${host}:/x`], tmpfs: ['/x'] }, '/x: duplicate mount destination');
  fails({ volumes: ['a:/x', '/tmp:/x/'] }, '/x: duplicate mount destination');
});

test('--mount type=bind', () => {
  assert.equal(parse({ mounts: ['type=bind,src=hostdir,dst=/x'] }).mounts, [{ type: 'bind', source: host, destination: '/x' }]);
  assert.equal(parse({ mounts: [`type=bind,source=${host},target=/x,ro=true`] }).mounts, [{ type: 'bind', source: host, destination: '/x', readOnly: true }]);
  assert.equal(parse({ mounts: [`type=bind,src=${host},destination=/x,ro=false`] }).mounts, [{ type: 'bind', source: host, destination: '/x' }]);
  assert.equal(parse({ mounts: [`type=bind,src=${host},dst=/x,readonly,bind-propagation=shared,noexec,z,relabel=private`] }).mounts, [
    { type: 'bind', source: host, destination: '/x', readOnly: true, options: ['shared', 'noexec'] },
  ]);
  // podman takes the destination as the source when src= is missing
  fails({ mounts: ['type=bind,dst=/nonexist-pkit'] }, 'statfs /nonexist-pkit: no such file or directory');
  fails({ mounts: [`type=bind,src=${host}`] }, /must set volume destination$/);
  fails({ mounts: [`type=bind,src=${host},dst=/x,readonly=yes`] }, /'readonly', 'ro', or 'rw' must be set to true or false, instead received "yes"$/);
  fails({ mounts: [`type=bind,src=${host},dst=/x,ro,ro`] }, /cannot pass 'readonly', 'ro', or 'rw' options more than once$/);
  fails({ mounts: [`type=bind,src=${host},dst=/x,foo=bar`] }, /: foo: invalid mount option$/);
  fails({ mounts: [`type=bind,src=${host},dst=/x,`] }, /": : invalid mount option$/);
  fails({ mounts: [`type=bind,src=${host},dst=x`] }, /invalid container path "x", must be an absolute path$/);
  fails({ mounts: ['type=foo,dst=/x'] }, /invalid filesystem type "foo"$/);
  fails({ mounts: ['type=image,src=busybox,dst=/x'] }, /mount type "image" is not supported/);
  fails({ mounts: ['dst=/x'] }, /incorrect mount format: should be --mount type=<bind\|tmpfs\|volume>/);
  fails({ mounts: [''] }, /incorrect mount format/);
});

test('--mount type=tmpfs and type=volume', () => {
  assert.equal(parse({ mounts: ['type=tmpfs,target=/h,tmpfs-size=1m,tmpfs-mode=1770'] }).mounts, [{ type: 'tmpfs', destination: '/h', size: 1 << 20, mode: '1770' }]);
  assert.equal(parse({ mounts: ['type=tmpfs,dst=/h,tmpfs-size=50%,ro,notmpcopyup'] }).mounts, [{ type: 'tmpfs', destination: '/h', readOnly: true, options: ['size=50%'] }]);
  fails({ mounts: ['type=tmpfs,dst=/x,src=/tmp'] }, /source is not supported with tmpfs mounts$/);
  fails({ mounts: ['type=tmpfs,dst=/x,tmpfs-size=abc'] }, /invalid tmpfs size "abc"/);
  fails({ mounts: ['type=tmpfs,dst=/x,tmpfs-mode=999'] }, /invalid tmpfs mode "999"/);
  const [anon, named] = parse({ mounts: ['type=volume,dst=/a', 'type=volume,src=vv,dst=/b,ro,nosuid,volume-nocopy'] }).mounts as VolumeMountRequest[];
  assert.is(anon!.anonymous, true);
  assert.equal(named, { type: 'volume', name: 'vv', anonymous: false, destination: '/b', readOnly: true, options: ['nosuid', 'nodev'], copyUp: false });
  fails({ mounts: [`type=volume,src=${host},dst=/x`] }, /creating named volume ".*hostdir": names must match/);
  fails({ mounts: ['type=volume,src=vv,dst=/x,volume-label=a=b'] }, /the --volume-label option is not presently implemented$/);
  fails({ mounts: ['type=volume,src=vv,dst=/x,tmpfs-size=1m'] }, /tmpfs-size: invalid mount option$/);
});

test('--tmpfs PATH[:options]', () => {
  assert.equal(parse({ tmpfs: ['/t'] }).mounts, [{ type: 'tmpfs', destination: '/t' }]);
  assert.equal(parse({ tmpfs: ['/t:size=10m,mode=700,ro,exec,notmpcopyup'] }).mounts, [
    { type: 'tmpfs', destination: '/t', size: 10 << 20, mode: '700', readOnly: true, options: ['exec'] },
  ]);
  fails({ tmpfs: ['x'] }, 'invalid tmpfs spec "x": invalid container path "x", must be an absolute path');
  fails({ tmpfs: [''] }, 'invalid tmpfs spec "": container directory cannot be empty');
  fails({ tmpfs: ['/x:foo'] }, /unknown mount option "foo": invalid mount option$/);
  fails({ tmpfs: ['/x:'] }, /unknown mount option "": invalid mount option$/);
  fails({ tmpfs: ['/x:exec,noexec'] }, /only one of 'noexec' and 'exec' can be used: duplicate mount option passed$/);
  fails({ tmpfs: ['/x:size=1m,size=2m'] }, /only one of 'size' and 'size' can be used/);
});

test('options accepted but not applied are reported as warnings', () => {
  const plan = parse({ volumes: [`${host}:/x:U`], mounts: [`type=bind,src=${host},dst=/y,bind-nonrecursive`] });
  assert.is(plan.warnings.length, 2);
  assert.match(plan.warnings[0]!, /"U".*not supported/);
  assert.match(plan.warnings[1]!, /bind-nonrecursive/);
});

test('volumes are created through the store and bound from their data dirs', async () => {
  const root = join(base, 'store');
  const store = Store.open({ root, runRoot: join(root, 'run') });
  try {
    const plan = parse({ volumes: ['data:/data:ro', '/anon', `${host}:/h`], tmpfs: ['/t'] });
    const wanted = volumesToReserve(plan);
    assert.is(wanted.length, 2);
    const mounts = await store.volumes.reserve(wanted, async (vols) => toMountRequests(plan, vols));
    const data = await store.volumes.inspect('data');
    const anonName = (plan.mounts[1] as VolumeMountRequest).name;
    const anon = await store.volumes.inspect(anonName);
    assert.is(anon.anonymous, true);
    assert.is(data.anonymous, undefined);
    assert.equal(mounts, [
      { type: 'bind', source: data.mountpoint, destination: '/data', readOnly: true, options: ['nosuid', 'nodev'] },
      { type: 'bind', source: anon.mountpoint, destination: '/anon', options: ['nosuid', 'nodev'] },
      { type: 'bind', source: host, destination: '/h' },
      { type: 'tmpfs', destination: '/t' },
    ]);
    // An existing volume is used as it is.
    const again = await store.volumes.reserve(['data'], async (vols) => vols);
    assert.is(again[0]!.created, data.created);
  } finally {
    store.close();
  }
});

test.after(() => rmSync(base, { recursive: true, force: true }));

test.run();
