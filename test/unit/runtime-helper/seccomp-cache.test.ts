// The seccomp program cache of pkit-runtime (<root>/.seccomp-cache, native/helper/seccomp.c):
// the same seccomp observations on the cold path (compiled with libseccomp, then stored) and
// on the warm path (read from the cache), for `run` and `exec`; a cache file that does not
// verify (corrupt, truncated, another profile's, a symlink, writable by others, unreadable)
// is compiled again and replaced, never used and never a reason to run without the filter.
// Each test has a state root of its own, so "cold" means no cache file yet.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import {
  chmodSync, closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync,
  rmSync, statSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { bundle, helper, nextId, ociSeccomp, CAPS, runtimes, work, type BundleOptions, type Runtime } from './bundle.ts';

const t = suite('seccomp cache');
t.before(() => { helper(); }); // built once, before any test

const podmanProfile = ociSeccomp(CAPS);

/** pkit-runtime with a state root (and so a cache) of its own. */
function freshRuntime(): Runtime & { root: string } {
  const root = mkdtempSync(join(work, 'seccomp-root-'));
  return { name: 'pkit-runtime', available: true, root, argv: (v) => [helper(), '--root', root, ...v] };
}
const cacheDir = (rt: { root: string }) => join(rt.root, '.seccomp-cache');
const cacheFiles = (rt: { root: string }) =>
  (existsSync(cacheDir(rt)) ? readdirSync(cacheDir(rt)).sort() : []);

function run(rt: Runtime, o: BundleOptions) {
  const b = bundle(o);
  const [cmd, ...args] = rt.argv(['run', '--bundle', b, nextId('sc')]);
  const r = spawnSync(cmd!, args, { input: '', timeout: 30_000 });
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
}

// A small profile whose every feature shows from busybox: errnoRet, an unknown syscall name
// (skipped), two args on one index (ORed), SCMP_CMP_MASKED_EQ, the default action.
const O_TRUNC = 0o1000;
const customProfile = {
  defaultAction: 'SCMP_ACT_ALLOW',
  architectures: ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'],
  syscalls: [
    { names: ['mkdir', 'mkdirat', 'no_such_syscall_pkit'], action: 'SCMP_ACT_ERRNO', errnoRet: 18 /* EXDEV */ },
    { names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 3 /* ESRCH */,
      args: [{ index: 1, value: 0, op: 'SCMP_CMP_EQ' }, { index: 1, value: 18 /* SIGCONT */, op: 'SCMP_CMP_EQ' }] },
    { names: ['openat'], action: 'SCMP_ACT_ERRNO', errnoRet: 30 /* EROFS */,
      args: [{ index: 2, value: O_TRUNC, valueTwo: O_TRUNC, op: 'SCMP_CMP_MASKED_EQ' }] },
  ],
};
const customScript = [
  'mkdir /dev/shm/d; echo mkdir=$?',
  'kill -0 $$; echo kill0=$?', 'kill -CONT $$; echo killCONT=$?', 'kill -CHLD $$; echo killCHLD=$?',
  'echo x > /dev/shm/f; echo trunc=$?', 'echo y >> /dev/shm/f; echo append=$?', 'cat /dev/shm/f',
].join('; ');
const customExpected = 'mkdir=1\nkill0=1\nkillCONT=1\nkillCHLD=0\ntrunc=1\nappend=0\ny\n';

const withChroot = (c: Record<string, any>) => {
  for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_SYS_CHROOT');
};

/** The seccomp checks of run.test.ts plus the custom profile's, each with a runtime of its
 * own (so each is cold the first time); the same observations on every path. */
const seccompChecks: ((rt: Runtime, label: string) => void)[] = [
  (rt, label) => {
    const r = run(rt, { args: ['sh', '-c', 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status'], seccomp: true });
    assert.is(r.status, 0, `${label}: ${r.stderr}`);
    assert.is(r.stdout, 'NoNewPrivs:\t1\nSeccomp:\t2\n', label);
  },
  (rt, label) => {
    // podman's profile refuses chroot without CAP_SYS_CHROOT in the profile's caps; the
    // process has the capability, so only the filter can refuse it
    const r = run(rt, { args: ['sh', '-c', 'chroot / true; echo rc=$?'], seccomp: true, mutate: withChroot });
    assert.is(r.status, 0, `${label}: ${r.stderr}`);
    assert.is(r.stdout, 'rc=1\n', label);
    assert.match(r.stderr, /Operation not permitted/, label);
  },
  (rt, label) => {
    const r = run(rt, { args: ['sh', '-c', customScript], mutate: (c) => { c.linux.seccomp = customProfile; } });
    assert.is(r.status, 0, `${label}: ${r.stderr}`);
    assert.is(r.stdout, customExpected, label);
    assert.match(r.stderr, /Invalid cross-device link/, label);
    assert.match(r.stderr, /No such process/, label);
    assert.match(r.stderr, /Read-only file system/, label);
  },
];

/** inode and mtime: a file read from the cache stays the same file; a replaced one is new. */
const identity = (p: string) => { const s = statSync(p); return `${s.ino}:${s.mtimeMs}`; };

t('the profiles are installed here', () => {
  assert.ok(podmanProfile, 'no /usr/share/containers/seccomp.json: install the Debian package golang-github-containers-common');
});

t('cold, then cached: the same observations; one file per profile, 0600 in a 0700 dir, read not rewritten', () => {
  for (const [i, check] of seccompChecks.entries()) {
    const rt = freshRuntime();
    assert.equal(cacheFiles(rt), []);
    check(rt, `check ${i}, cold`);
    const files = cacheFiles(rt);
    assert.is(files.length, 1, files.join(', '));
    const file = join(cacheDir(rt), files[0]!);
    assert.match(files[0]!, /^[0-9a-f]{16}\.bpf$/);
    assert.is(statSync(file).mode & 0o777, 0o600);
    assert.is(statSync(cacheDir(rt)).mode & 0o777, 0o700);
    const before = identity(file);
    check(rt, `check ${i}, cached`);
    check(rt, `check ${i}, cached again`);
    assert.equal(cacheFiles(rt), files);
    assert.is(identity(file), before, 'the cache file was used, not written again');
  }
});

t('one cache file per seccomp section: both podman-profile bundles share one, the custom profile has its own', () => {
  const rt = freshRuntime();
  for (const check of seccompChecks) check(rt, 'shared root');
  assert.is(cacheFiles(rt).length, 2);
});

t('the custom profile behaves the same under crun (the reference)', () => {
  const crun = runtimes().find((r) => r.name === 'crun' && r.available);
  if (!crun) return;
  const r = run(crun, { args: ['sh', '-c', customScript], mutate: (c) => { c.linux.seccomp = customProfile; } });
  assert.is(r.stdout, customExpected, r.stderr);
});

t('noNewPrivileges false (the filter loaded before the capabilities are dropped): cold and cached', () => {
  const rt = freshRuntime();
  for (const label of ['cold', 'cached']) {
    const r = run(rt, {
      args: ['sh', '-c', 'grep -E "^(NoNewPrivs|Seccomp):" /proc/self/status; chroot / true; echo rc=$?'],
      seccomp: true, mutate: (c) => { c.process.noNewPrivileges = false; withChroot(c); },
    });
    assert.is(r.status, 0, `${label}: ${r.stderr}`);
    assert.is(r.stdout, 'NoNewPrivs:\t0\nSeccomp:\t2\nrc=1\n', label);
  }
  assert.is(cacheFiles(rt).length, 1);
});

t('filter flags (SPEC_ALLOW, LOG) are kept: cold and cached', () => {
  const rt = freshRuntime();
  const flagged = (c: Record<string, any>) => {
    c.linux.seccomp = { ...customProfile, flags: ['SECCOMP_FILTER_FLAG_SPEC_ALLOW', 'SECCOMP_FILTER_FLAG_LOG'] };
  };
  for (const label of ['cold', 'cached']) {
    const r = run(rt, { args: ['sh', '-c', customScript], mutate: flagged });
    assert.is(r.status, 0, `${label}: ${r.stderr}`);
    assert.is(r.stdout, customExpected, label);
  }
  // the flags are part of the key: the same syscalls without them are another program
  run(rt, { args: ['true'], mutate: (c) => { c.linux.seccomp = customProfile; } });
  assert.is(cacheFiles(rt).length, 2);
});

t('exec into a container: the exec process gets the filter, cold and cached', () => {
  const rt = freshRuntime();
  const verb = (args: string[]) => {
    // the created container inherits our stdio: files, never pipes spawnSync waits on
    const [cmd, ...rest] = rt.argv(args);
    const base = join(work, nextId('scx'));
    const out = openSync(`${base}.out`, 'w+'), err = openSync(`${base}.err`, 'w+');
    const r = spawnSync(cmd!, rest, { stdio: ['ignore', out, err], timeout: 30_000 });
    closeSync(out); closeSync(err);
    return { status: r.status, stdout: readFileSync(`${base}.out`, 'utf8'), stderr: readFileSync(`${base}.err`, 'utf8') };
  };
  const b = bundle({ args: ['sleep', '60'], seccomp: true, mutate: withChroot });
  const id = nextId('scx');
  let r = verb(['create', '--bundle', b, id]);
  assert.is(r.status, 0, r.stderr);
  try {
    assert.is(cacheFiles(rt).length, 1, 'create compiled and stored the program');
    const file = join(cacheDir(rt), cacheFiles(rt)[0]!);
    const before = identity(file);
    assert.is(verb(['start', id]).status, 0);
    r = verb(['exec', id, 'sh', '-c', 'grep -E "^Seccomp:" /proc/self/status; chroot / true; echo rc=$?']);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, 'Seccomp:\t2\nrc=1\n');
    assert.is(identity(file), before, 'exec read the cached program');
  } finally {
    verb(['delete', '--force', id]);
  }
});

/** One cache file for the custom profile, then `damage` applied to it; the run must still be
 * filtered, and the file replaced by a good one (which the next run reads). */
function damaged(name: string, damage: (file: string) => void) {
  t(`a cache file that does not verify (${name}) is compiled again, never used`, () => {
    const rt = freshRuntime();
    const custom = (c: Record<string, any>) => { c.linux.seccomp = customProfile; };
    assert.is(run(rt, { args: ['true'], mutate: custom }).status, 0);
    const [f] = cacheFiles(rt);
    const file = join(cacheDir(rt), f!);
    const good = readFileSync(file);
    damage(file);
    const r = run(rt, { args: ['sh', '-c', customScript], mutate: custom });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, customExpected);
    assert.is(r.stderr.includes('pkit-runtime'), false, r.stderr); // no warning, no error
    assert.equal(cacheFiles(rt), [f]);
    assert.ok(statSync(file).isFile() && !readFileSync(file).equals(Buffer.alloc(0)));
    assert.ok(readFileSync(file).equals(good), 'the file was written again, as the cold run did');
    assert.is(statSync(file).mode & 0o777, 0o600);
    const again = identity(file);
    assert.is(run(rt, { args: ['sh', '-c', customScript], mutate: custom }).stdout, customExpected);
    assert.is(identity(file), again, 'the rewritten file is used');
  });
}

damaged('garbage', (file) => writeFileSync(file, 'not a seccomp program\n'));
damaged('empty', (file) => writeFileSync(file, ''));
damaged('truncated', (file) => writeFileSync(file, readFileSync(file).subarray(0, readFileSync(file).length - 8)));
damaged('one byte of the program flipped', (file) => {
  const b = readFileSync(file);
  b[b.length - 3] = b[b.length - 3]! ^ 0x01;
  writeFileSync(file, b);
});
damaged('one byte of the header flipped', (file) => {
  const b = readFileSync(file);
  b[12] = b[12]! ^ 0x01; // the flags
  writeFileSync(file, b);
});
damaged('not a multiple of an instruction', (file) => writeFileSync(file, Buffer.concat([readFileSync(file), Buffer.from([0])])));
damaged('a symlink to a good copy', (file) => {
  const copy = join(work, nextId('sc-good-copy'));
  copyFileSync(file, copy);
  rmSync(file);
  symlinkSync(copy, file);
});
damaged('writable by others', (file) => chmodSync(file, 0o666));
damaged('unreadable', (file) => chmodSync(file, 0o000));

t('another profile\'s (valid) program under this profile\'s name is not used', () => {
  const rt = freshRuntime();
  // the same profile but mkdir -> EPERM: a key and a program of the same sizes
  const other = structuredClone(customProfile);
  other.syscalls[0]!.errnoRet = 1;
  assert.is(run(rt, { args: ['true'], mutate: (c) => { c.linux.seccomp = other; } }).status, 0);
  const [otherFile] = cacheFiles(rt);
  assert.is(run(rt, { args: ['true'], mutate: (c) => { c.linux.seccomp = customProfile; } }).status, 0);
  const mine = cacheFiles(rt).find((f) => f !== otherFile)!;
  const good = readFileSync(join(cacheDir(rt), mine));
  assert.is(good.length, readFileSync(join(cacheDir(rt), otherFile!)).length);
  copyFileSync(join(cacheDir(rt), otherFile!), join(cacheDir(rt), mine));
  const r = run(rt, { args: ['sh', '-c', customScript], mutate: (c) => { c.linux.seccomp = customProfile; } });
  assert.is(r.stdout, customExpected, r.stderr);
  assert.match(r.stderr, /Invalid cross-device link/);
  assert.ok(readFileSync(join(cacheDir(rt), mine)).equals(good), 'replaced by this profile\'s program');
  // a more permissive profile's file (podman's refuses chroot, the custom one allows it)
  assert.is(run(rt, { args: ['true'], seccomp: true }).status, 0);
  const podman = cacheFiles(rt).find((f) => f !== otherFile && f !== mine)!;
  copyFileSync(join(cacheDir(rt), mine), join(cacheDir(rt), podman));
  const c = run(rt, { args: ['sh', '-c', 'chroot / true; echo rc=$?'], seccomp: true, mutate: withChroot });
  assert.is(c.stdout, 'rc=1\n', c.stderr);
});

t('a cache that cannot be written: the filter still applies, compiled every time', () => {
  const rt = freshRuntime();
  writeFileSync(cacheDir(rt), 'a file where the cache directory would be');
  for (let i = 0; i < 2; i++) {
    const r = run(rt, { args: ['sh', '-c', 'chroot / true; echo rc=$?'], seccomp: true, mutate: withChroot });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, 'rc=1\n');
  }
  assert.ok(statSync(cacheDir(rt)).isFile());
});

t('a profile that does not compile: 125 from the runtime before any clone, nothing stored or left', () => {
  const rt = freshRuntime();
  const r = run(rt, { args: ['true'], mutate: (c) => { c.linux.seccomp = { ...customProfile, flags: ['SECCOMP_FILTER_FLAG_NOPE'] }; } });
  assert.is(r.status, 125);
  assert.is(r.stderr, 'pkit-runtime: seccomp: unsupported flag SECCOMP_FILTER_FLAG_NOPE\n');
  assert.equal(readdirSync(rt.root).filter((f) => f !== '.seccomp-cache'), []);
  assert.equal(cacheFiles(rt), []);
});

t('the cache directory\'s name is not a container id', () => {
  const rt = freshRuntime();
  const b = bundle({ args: ['true'] });
  const [cmd, ...args] = rt.argv(['run', '--bundle', b, '.seccomp-cache']);
  const r = spawnSync(cmd!, args, { encoding: 'utf8', input: '' });
  assert.is(r.status, 125);
  assert.match(r.stderr, /invalid container id "\.seccomp-cache"/);
});

t.run();
