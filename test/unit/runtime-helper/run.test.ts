// `run` observed from inside the container: the same assertions for pkit-runtime and crun
// on the same bundle (crun only where installed). Where the two differ on purpose, the
// expectation is per runtime and says why.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundle, gid, nextId, runAsync, runContainer, runtimes, subRange, uid, until, work, type BundleOptions, type Runtime } from './bundle.ts';

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

function observations(rt: Runtime) {
  const t = suite(`run: ${rt.name}`);
  const run = (args: string[], extra: Omit<BundleOptions, 'args'> = {}, input?: Buffer | string) =>
    runContainer(rt, { args, ...extra }, input);
  const sh = (script: string, extra: Omit<BundleOptions, 'args'> = {}, input?: Buffer | string) => run(['sh', '-c', script], extra, input);

  t('single-id mapping: container root is the user, written without newuidmap', () => {
    const r = sh('cat /proc/self/uid_map /proc/self/gid_map; id -u; id -g');
    assert.is(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    assert.equal(lines, [`0 ${uid} 1`, `0 ${gid} 1`, '0', '0']);
  });

  t('multi-range mapping through newuidmap/newgidmap', () => {
    const sub = subRange('/etc/subuid')!, subg = subRange('/etc/subgid')!;
    const r = sh('cat /proc/self/uid_map; echo --; cat /proc/self/gid_map', { multiRange: true });
    assert.is(r.status, 0, r.stderr);
    const norm = r.stdout.trim().split('\n').map((l) => l.trim().split(/\s+/).join(' '));
    assert.equal(norm, [`0 ${uid} 1`, `1 ${sub.start} ${sub.count}`, '--', `0 ${gid} 1`, `1 ${subg.start} ${subg.count}`]);
  });

  t('hostname in the new uts namespace', () => {
    const r = sh('hostname; cat /proc/sys/kernel/hostname');
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, 'pkit-box\npkit-box\n');
  });

  t('mount table: proc, tmpfs /dev, devpts, mqueue, sysfs; read-only root', () => {
    const r = sh('cat /proc/self/mountinfo');
    assert.is(r.status, 0, r.stderr);
    const mounts = r.stdout.trim().split('\n').map((l) => {
      const f = l.split(' ');
      const sep = f.indexOf('-');
      return { point: f[4], opts: f[5], type: f[sep + 1] };
    });
    const at = (p: string) => mounts.filter((m) => m.point === p).at(-1);
    assert.is(at('/proc')?.type, 'proc');
    assert.is(at('/dev')?.type, 'tmpfs');
    assert.is(at('/dev/pts')?.type, 'devpts');
    assert.is(at('/dev/shm')?.type, 'tmpfs');
    assert.is(at('/dev/mqueue')?.type, 'mqueue');
    assert.is(at('/sys')?.type, 'sysfs');
    assert.match(at('/sys')!.opts!, /^ro/);
    assert.match(at('/')!.opts!, /^ro/);
    assert.match(at('/proc/sys')!.opts!, /^ro/);
    for (const d of ['/dev/null', '/dev/zero', '/dev/full', '/dev/random', '/dev/urandom', '/dev/tty']) assert.ok(at(d), `${d} bind-mounted`);
  });

  t('devices and /dev symlinks', () => {
    const r = sh('echo hi > /dev/null && head -c 4 /dev/zero | wc -c && readlink /dev/fd && readlink /dev/stdin && readlink /dev/ptmx && ls /dev/pts');
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, '4\n/proc/self/fd\n/proc/self/fd/0\npts/ptmx\nptmx\n');
  });

  t('capabilities, no_new_privs and seccomp in /proc/self/status', () => {
    const r = sh('grep -E "^(CapInh|CapPrm|CapEff|CapBnd|CapAmb|NoNewPrivs|Seccomp):" /proc/self/status', { seccomp: true });
    assert.is(r.status, 0, r.stderr);
    // CAP_AUDIT_WRITE (29), CAP_KILL (5), CAP_NET_BIND_SERVICE (10)
    assert.is(r.stdout, [
      'CapInh:\t0000000000000000', 'CapPrm:\t0000000020000420', 'CapEff:\t0000000020000420',
      'CapBnd:\t0000000020000420', 'CapAmb:\t0000000000000000', 'NoNewPrivs:\t1', 'Seccomp:\t2', '',
    ].join('\n'));
  });

  t('seccomp filter: a syscall the profile refuses fails although the capability is there', () => {
    // The profile is reduced for the default caps (no CAP_SYS_CHROOT: chroot -> EPERM); the
    // process then gets CAP_SYS_CHROOT, so only the filter can refuse the chroot.
    const withChroot = (c: Record<string, any>) => {
      for (const set of ['bounding', 'effective', 'permitted']) c.process.capabilities[set].push('CAP_SYS_CHROOT');
    };
    const filtered = sh('chroot / true; echo rc=$?', { seccomp: true, mutate: withChroot });
    assert.is(filtered.status, 0, filtered.stderr);
    assert.is(filtered.stdout, 'rc=1\n');
    assert.match(filtered.stderr, /Operation not permitted/);
    const open = sh('chroot / true; echo rc=$?', { mutate: withChroot });
    assert.is(open.stdout, 'rc=0\n', open.stderr);
  });

  t('rlimits: soft and hard NOFILE', () => {
    const r = sh('ulimit -n; ulimit -Hn');
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, '512\n1024\n');
  });

  t('masked paths read as empty, masked dirs are empty', () => {
    const r = sh('for f in /proc/kcore /proc/keys /proc/timer_list; do [ -e $f ] && echo "$f $(cat $f | wc -c)"; done; ls -A /proc/acpi | wc -l');
    assert.is(r.status, 0, r.stderr);
    const lines = r.stdout.trim().split('\n');
    assert.ok(lines.length >= 2, r.stdout);
    for (const l of lines.slice(0, -1)) assert.match(l, / 0$/);
    assert.is(lines.at(-1), '0');
  });

  t('pid 1 is the command', () => {
    const r = sh('echo $$; readlink /proc/1/exe; tr "\\0" " " < /proc/1/cmdline; echo');
    assert.is(r.status, 0, r.stderr);
    const [pid, exe, cmdline] = r.stdout.split('\n');
    assert.is(pid, '1');
    assert.is(exe, '/bin/busybox');
    assert.match(cmdline!, /^sh -c echo \$\$;/);
  });

  t('only lo in the new network namespace', () => {
    const r = sh('tail -n +3 /proc/net/dev | cut -d: -f1 | tr -d " "');
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, 'lo\n');
  });

  t('exit codes: 0 and 3', () => {
    assert.is(sh('true').status, 0);
    assert.is(sh('exit 3').status, 3);
  });

  t('a missing command: 127 (crun: 1), message names the executable', () => {
    const r = run(['no-such-command']);
    // pkit-runtime follows runc/podman (127); crun 1.8.1 exits 1.
    assert.is(r.status, rt.name === 'crun' ? 1 : 127);
    assert.match(r.stderr, /no-such-command.*not found in \$PATH/);
  });

  t('a non-executable file: 126 (crun: 1)', () => {
    const r = run(['/etc/passwd']);
    assert.is(r.status, rt.name === 'crun' ? 1 : 126);
    assert.match(r.stderr, /[Pp]ermission denied/);
  });

  t('killed by a signal: 128+N (SIGKILL from outside, pid file)', async () => {
    const b = bundle({ args: ['sleep', '60'] });
    const pidFile = join(work, `${nextId('pid')}.pid`);
    const p = runAsync(rt, ['run', '--bundle', b, '--pid-file', pidFile, nextId()]);
    await until(() => existsSync(pidFile) && readFileSync(pidFile, 'utf8').trim() !== '');
    process.kill(Number(readFileSync(pidFile, 'utf8')), 'SIGKILL');
    const r = await p.done;
    assert.is(r.status, 137, r.stderr);
  });

  t('kill -9 $$ without a pid namespace: 137 (with one, init ignores its own SIGKILL)', () => {
    // No pid namespace: /proc cannot be mounted for the host's pid namespace; bind it instead.
    const r = sh('kill -9 $$', {
      pidNs: false,
      mutate: (c: Record<string, any>) => {
        c.mounts[0] = { destination: '/proc', type: 'bind', source: '/proc', options: ['rbind', 'nosuid', 'noexec', 'nodev'] };
        c.linux.maskedPaths = []; c.linux.readonlyPaths = [];
      },
    });
    assert.is(r.status, 137, r.stderr);
  });

  t('signals sent to the runtime reach the container', async () => {
    const b = bundle({ args: ['sh', '-c', 'trap "echo got-term; exit 7" TERM; echo ready; while :; do sleep 0.05; done'] });
    const p = runAsync(rt, ['run', '--bundle', b, nextId()]);
    await until(() => p.out().includes('ready'));
    p.child.kill('SIGTERM');
    const r = await p.done;
    assert.is(r.status, 7, r.stderr);
    assert.match(r.stdout, /got-term/);
  });

  t('a 10 MB stream through stdin and stdout arrives intact', () => {
    const data = randomBytes(10 << 20);
    const r = run(['cat'], {}, data);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.raw.length, data.length);
    assert.is(sha(r.raw), sha(data));
  });

  t('a 10 MB stream produced in the container', () => {
    const r = sh('head -c 10485760 /dev/zero');
    assert.is(r.status, 0, r.stderr);
    assert.is(sha(r.raw), sha(Buffer.alloc(10 << 20)));
  });

  t('no extra file descriptors', () => {
    const r = sh('ls /proc/self/fd | tr "\\n" " "');
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout.trim(), '0 1 2 3'); // 3: ls's own directory fd
  });

  t('env, cwd and user from the spec', () => {
    const r = sh('echo $FOO; pwd; id -u; id -g; id -G', {
      multiRange: true,
      mutate: (c: Record<string, any>) => {
        c.process.env.push('FOO=bar baz');
        c.process.cwd = '/tmp';
        c.process.user = { uid: 1000, gid: 1000, additionalGids: [1000, 10] };
      },
    });
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, 'bar baz\n/tmp\n1000\n1000\n1000 10\n');
  });

  return t;
}

for (const rt of runtimes()) {
  if (!rt.available) { console.error(`runtime-helper: ${rt.name} not installed, its comparison is skipped`); continue; }
  observations(rt).run();
}
