// Plan-level tests: the whole generated config.json for given inputs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ImageConfig } from '../../../packages/storage/src/oci-types.ts';
import { DEFAULT_CAPABILITIES } from '../../../packages/runtime/src/capabilities.ts';
import {
  buildSpec,
  containerCommand,
  DEFAULT_MASKED_PATHS,
  mergeEnv,
  parseUser,
} from '../../../packages/runtime/src/spec.ts';
import { HOST, baseOptions, keepIdmap, rootIdmap, singleIdmap } from './helpers.ts';

const IMAGE: ImageConfig = {
  architecture: 'amd64',
  os: 'linux',
  config: {
    Env: ['PATH=/usr/bin:/bin', 'LANG=C.UTF-8', 'FOO=image'],
    Entrypoint: ['/entry'],
    Cmd: ['default-arg'],
    WorkingDir: '/app',
  },
  rootfs: { type: 'layers', diff_ids: [] },
};

const DEFAULT_CAPS = [...DEFAULT_CAPABILITIES];

test('the default rootless spec, whole', () => {
  const spec = buildSpec(IMAGE, baseOptions({ args: undefined, hostname: 'c1', seccomp: 'unconfined' }), HOST);
  assert.equal(spec, {
    ociVersion: '1.0.2',
    process: {
      terminal: false,
      user: { uid: 0, gid: 0, umask: 0o022 },
      args: ['/entry', 'default-arg'],
      env: ['PATH=/usr/bin:/bin', 'container=pkit', 'LANG=C.UTF-8', 'FOO=image', 'HOME=/root', 'HOSTNAME=c1'],
      cwd: '/app',
      capabilities: { bounding: DEFAULT_CAPS, effective: DEFAULT_CAPS, permitted: DEFAULT_CAPS, inheritable: [], ambient: [] },
      rlimits: [
        { type: 'RLIMIT_NOFILE', hard: 20000, soft: 20000 },
        { type: 'RLIMIT_NPROC', hard: 5000, soft: 4000 },
      ],
      noNewPrivileges: true,
    },
    root: { path: '/tmp/rootfs', readonly: false },
    hostname: 'c1',
    mounts: [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/dev/pts', type: 'devpts', source: 'devpts', options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'] },
      { destination: '/dev/shm', type: 'tmpfs', source: 'shm', options: ['nosuid', 'noexec', 'nodev', 'mode=1777', 'size=67108864'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['rprivate', 'nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ],
    linux: {
      namespaces: [{ type: 'pid' }, { type: 'network' }, { type: 'ipc' }, { type: 'uts' }, { type: 'mount' }, { type: 'cgroup' }, { type: 'user' }],
      maskedPaths: [...DEFAULT_MASKED_PATHS],
      readonlyPaths: ['/proc/asound', '/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'],
      uidMappings: [
        { containerID: 0, hostID: 1001, size: 1 },
        { containerID: 1, hostID: 100000, size: 65536 },
      ],
      gidMappings: [
        { containerID: 0, hostID: 1001, size: 1 },
        { containerID: 1, hostID: 100000, size: 65536 },
      ],
      sysctl: { 'net.ipv4.ping_group_range': '0 0' },
    },
  });
  // Plain data: survives a JSON round trip unchanged.
  assert.equal(JSON.parse(JSON.stringify(spec)), spec);
});

test('masked paths include podman defaults and the host extras', () => {
  for (const p of ['/proc/kcore', '/proc/keys', '/proc/timer_list', '/sys/firmware', '/proc/interrupts', '/proc/acpi', '/proc/scsi']) {
    assert.ok(DEFAULT_MASKED_PATHS.includes(p), p);
  }
  const spec = buildSpec(undefined, baseOptions(), { ...HOST, extraMaskedPaths: ['/sys/devices/system/cpu/cpu0/thermal_throttle'] });
  assert.ok(spec.linux.maskedPaths!.includes('/sys/devices/system/cpu/cpu0/thermal_throttle'));
  assert.not.ok(spec.linux.maskedPaths!.includes('/sys/kernel'));
});

test('root on the host: no user namespace, no mappings', () => {
  const spec = buildSpec(undefined, baseOptions({ idmap: rootIdmap() }), { ...HOST, rlimits: undefined });
  assert.not.ok(spec.linux.namespaces.some((n) => n.type === 'user'));
  assert.is(spec.linux.uidMappings, undefined);
  assert.is(spec.linux.gidMappings, undefined);
  assert.equal(spec.process.rlimits![0], { type: 'RLIMIT_NOFILE', hard: 1048576, soft: 1048576 });
});

test('caps: root in the container gets effective=permitted=bounding, nothing inheritable', () => {
  const spec = buildSpec(undefined, baseOptions({ user: '0:0', capAdd: ['net_admin'], capDrop: ['CAP_CHOWN'] }), HOST);
  const expected = [...DEFAULT_CAPS.filter((c) => c !== 'CAP_CHOWN'), 'CAP_NET_ADMIN'];
  const c = spec.process.capabilities;
  assert.equal(c.bounding, expected);
  assert.equal(c.effective, expected);
  assert.equal(c.permitted, expected);
  assert.equal(c.inheritable, []);
  assert.equal(c.ambient, []);
});

test('caps: a non-root user has empty effective/permitted; only cap-add is granted (also ambient)', () => {
  let c = buildSpec(undefined, baseOptions({ user: '1000:1000' }), HOST).process.capabilities;
  assert.equal(c.bounding, DEFAULT_CAPS);
  assert.equal(c.effective, []);
  assert.equal(c.permitted, []);
  assert.equal(c.inheritable, []);
  assert.equal(c.ambient, []);
  c = buildSpec(undefined, baseOptions({ user: { uid: 1000, gid: 1000 }, capAdd: ['NET_RAW'] }), HOST).process.capabilities;
  assert.equal(c.effective, ['CAP_NET_RAW']);
  assert.equal(c.permitted, ['CAP_NET_RAW']);
  assert.equal(c.ambient, ['CAP_NET_RAW']);
  assert.equal(c.inheritable, ['CAP_NET_RAW']);
});

test('caps: limited to the host bounding set; ALL; conflicts and unknown names', () => {
  const host = { ...HOST, bounding: DEFAULT_CAPS.filter((c) => c !== 'CAP_KILL') };
  let c = buildSpec(undefined, baseOptions({ capAdd: ['SYS_ADMIN'] }), host).process.capabilities;
  assert.not.ok(c.bounding.includes('CAP_KILL'));
  assert.not.ok(c.bounding.includes('CAP_SYS_ADMIN'));
  c = buildSpec(undefined, baseOptions({ capDrop: ['all'], capAdd: ['chown'] }), HOST).process.capabilities;
  assert.equal(c.bounding, ['CAP_CHOWN']);
  c = buildSpec(undefined, baseOptions({ capAdd: ['ALL'] }), HOST).process.capabilities;
  assert.is(c.bounding.length, 41);
  assert.throws(() => buildSpec(undefined, baseOptions({ capAdd: ['FLY'] }), HOST), /unknown capability "FLY"/);
  assert.throws(() => buildSpec(undefined, baseOptions({ capAdd: ['KILL'], capDrop: ['cap_kill'] }), HOST), /CAP_KILL is both added and dropped/);
});

test('keep-id: process runs as the user, with its mapping and no effective caps', () => {
  const spec = buildSpec(undefined, baseOptions({ idmap: keepIdmap() }), HOST);
  assert.equal(spec.process.user, { uid: 1001, gid: 1001, umask: 0o022 });
  assert.equal(spec.linux.uidMappings, [
    { containerID: 0, hostID: 100000, size: 1001 },
    { containerID: 1001, hostID: 1001, size: 1 },
    { containerID: 1002, hostID: 101001, size: 64535 },
  ]);
  assert.equal(spec.process.capabilities.effective, []);
  assert.ok(spec.process.env.includes('HOME=/'));
  // An explicit user still wins.
  assert.equal(buildSpec(undefined, baseOptions({ idmap: keepIdmap(), user: '0' }), HOST).process.user.uid, 0);
});

test('env: defaults < image < run options; TERM with a terminal; HOME kept when set', () => {
  const spec = buildSpec(IMAGE, baseOptions({ env: ['FOO=run', 'NEW=1', 'PATH=/run/bin'], terminal: true, home: '/home/x' }), HOST);
  assert.equal(spec.process.env, ['PATH=/run/bin', 'container=pkit', 'TERM=xterm', 'LANG=C.UTF-8', 'FOO=run', 'NEW=1', 'HOME=/home/x']);
  assert.is(spec.process.terminal, true);
  const withHome = buildSpec(undefined, baseOptions({ env: ['HOME=/h', 'container=other'] }), HOST);
  assert.ok(withHome.process.env.includes('HOME=/h'));
  assert.ok(withHome.process.env.includes('container=other'));
  assert.not.ok(withHome.process.env.includes('HOME=/root'));
  // No image PATH: the default one.
  assert.ok(withHome.process.env.includes('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'));
  assert.throws(() => mergeEnv(['NOEQUALS']), /expected KEY=VALUE/);
  assert.equal(mergeEnv(['A=1', 'B=2'], ['A=3=4', 'C=']), ['A=3=4', 'B=2', 'C=']);
});

test('args: Entrypoint+Cmd, args replace Cmd only, entrypoint override drops Cmd, [""] and [] clear', () => {
  const c = IMAGE.config!;
  assert.equal(containerCommand(c, {}), ['/entry', 'default-arg']);
  assert.equal(containerCommand(c, { args: ['x', 'y'] }), ['/entry', 'x', 'y']);
  assert.equal(containerCommand(c, { entrypoint: ['/other'] }), ['/other']);
  assert.equal(containerCommand(c, { entrypoint: ['/other'], args: ['a'] }), ['/other', 'a']);
  assert.equal(containerCommand(c, { entrypoint: [''], args: ['sh'] }), ['sh']);
  assert.equal(containerCommand(c, { entrypoint: [] }), ['default-arg']);
  assert.equal(containerCommand({ Cmd: ['sh'] }, {}), ['sh']);
  assert.equal(containerCommand({ Cmd: ['sh'], Entrypoint: null }, { args: ['ls'] }), ['ls']);
  assert.throws(() => containerCommand({}, {}), /no command/);
});

test('user: numeric uid[:gid] parsing; the image User applies; names are refused', () => {
  assert.equal(parseUser('1000'), { uid: 1000 });
  assert.equal(parseUser('1000:50'), { uid: 1000, gid: 50 });
  assert.throws(() => parseUser('nobody'), /must be resolved/);
  assert.throws(() => parseUser('1:x'), /expected numeric/);
  assert.throws(() => parseUser('99999999999'), /out of range/);
  const img: ImageConfig = { ...IMAGE, config: { ...IMAGE.config, User: '33:33' } };
  assert.equal(buildSpec(img, baseOptions(), HOST).process.user, { uid: 33, gid: 33, umask: 0o022 });
  assert.equal(buildSpec(img, baseOptions({ user: '7' }), HOST).process.user, { uid: 7, gid: 0, umask: 0o022 });
  assert.equal(
    buildSpec(undefined, baseOptions({ user: { uid: 5, gid: 6, additionalGids: [10, 11] } }), HOST).process.user,
    { uid: 5, gid: 6, umask: 0o022, additionalGids: [10, 11] },
  );
  assert.throws(() => buildSpec({ ...IMAGE, config: { User: 'www-data' } }, baseOptions(), HOST), /www-data/);
});

test('cwd: option > image WorkingDir > /; relative refused', () => {
  assert.is(buildSpec(IMAGE, baseOptions({ cwd: '/srv' }), HOST).process.cwd, '/srv');
  assert.is(buildSpec(undefined, baseOptions(), HOST).process.cwd, '/');
  assert.throws(() => buildSpec(undefined, baseOptions({ cwd: 'rel' }), HOST), /absolute/);
});

test('mounts: binds ro/rw, tmpfs, replacing a default, parents first', () => {
  const spec = buildSpec(
    undefined,
    baseOptions({
      mounts: [
        { type: 'bind', source: '/host/data/sub', destination: '/data/sub', readOnly: true },
        { type: 'bind', source: '/host/data', destination: '/data' },
        { type: 'tmpfs', destination: '/scratch', size: 1048576, mode: '1777' },
        { type: 'tmpfs', destination: '/dev/shm', size: 1024 },
      ],
    }),
    HOST,
  );
  const user = spec.mounts.slice(-4);
  assert.equal(user, [
    { destination: '/data', type: 'bind', source: '/host/data', options: ['rbind', 'rprivate', 'rw'] },
    { destination: '/scratch', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'nosuid', 'nodev', 'noexec', 'mode=1777', 'size=1048576'] },
    { destination: '/data/sub', type: 'bind', source: '/host/data/sub', options: ['rbind', 'rprivate', 'ro'] },
    { destination: '/dev/shm', type: 'tmpfs', source: 'tmpfs', options: ['rw', 'nosuid', 'nodev', 'noexec', 'size=1024'] },
  ]);

  assert.is(spec.mounts.filter((m) => m.destination === '/dev/shm').length, 1);
  assert.throws(() => buildSpec(undefined, baseOptions({ mounts: [{ type: 'bind', source: 'rel', destination: '/x' }] }), HOST), /absolute/);
  assert.throws(() => buildSpec(undefined, baseOptions({ mounts: [{ type: 'tmpfs', destination: 'x' }] }), HOST), /absolute/);
});

test('read-only root adds tmpfs /tmp /var/tmp /run unless disabled', () => {
  const spec = buildSpec(undefined, baseOptions({ readOnly: true }), HOST);
  assert.is(spec.root.readonly, true);
  assert.equal(spec.mounts.filter((m) => m.type === 'tmpfs' && ['/tmp', '/var/tmp', '/run'].includes(m.destination)).length, 3);
  const bare = buildSpec(undefined, baseOptions({ readOnly: true, readOnlyTmpfs: false }), HOST);
  assert.not.ok(bare.mounts.some((m) => m.destination === '/tmp'));
});

test('network host: no net namespace, /sys bound from the host, /sys/kernel masked, no sysctl', () => {
  const spec = buildSpec(undefined, baseOptions({ network: 'host' }), HOST);
  assert.not.ok(spec.linux.namespaces.some((n) => n.type === 'network'));
  const sys = spec.mounts.find((m) => m.destination === '/sys')!;
  assert.is(sys.type, 'bind');
  assert.ok(sys.options!.includes('ro'));
  assert.ok(spec.linux.maskedPaths!.includes('/sys/kernel'));
  assert.is(spec.linux.sysctl, undefined);
  // As root, sysfs can be mounted even with the host network.
  const asRoot = buildSpec(undefined, baseOptions({ network: 'host', idmap: rootIdmap() }), HOST);
  assert.is(asRoot.mounts.find((m) => m.destination === '/sys')!.type, 'sysfs');
  assert.ok(buildSpec(undefined, baseOptions({ network: 'none' }), HOST).linux.namespaces.some((n) => n.type === 'network'));
});

test('devpts drops gid=5 when gid 5 is not mapped (single-id fallback)', () => {
  const spec = buildSpec(undefined, baseOptions({ idmap: singleIdmap() }), HOST);
  const pts = spec.mounts.find((m) => m.destination === '/dev/pts')!;
  assert.not.ok(pts.options!.includes('gid=5'));
  assert.equal(spec.linux.uidMappings, [{ containerID: 0, hostID: 1001, size: 1 }]);
});

test('no-new-privileges default on, can be turned off; cgroup namespace optional; mqueue only when supported', () => {
  assert.is(buildSpec(undefined, baseOptions(), HOST).process.noNewPrivileges, true);
  assert.is(buildSpec(undefined, baseOptions({ noNewPrivileges: false }), HOST).process.noNewPrivileges, false);
  assert.not.ok(buildSpec(undefined, baseOptions({ cgroupns: false }), HOST).linux.namespaces.some((n) => n.type === 'cgroup'));
  assert.not.ok(buildSpec(undefined, baseOptions(), { ...HOST, mqueue: false }).mounts.some((m) => m.type === 'mqueue'));
});

test('rlimits: defaults clamped to the host; requests override by name', () => {
  const spec = buildSpec(undefined, baseOptions({ rlimits: [{ type: 'nofile', soft: 100, hard: 200 }, { type: 'RLIMIT_CORE', soft: 0, hard: 0 }] }), HOST);
  assert.equal(spec.process.rlimits, [
    { type: 'RLIMIT_NOFILE', hard: 200, soft: 100 },
    { type: 'RLIMIT_NPROC', hard: 5000, soft: 4000 },
    { type: 'RLIMIT_CORE', hard: 0, soft: 0 },
  ]);
  assert.throws(() => buildSpec(undefined, baseOptions({ rlimits: [{ type: 'bogus', soft: 1, hard: 1 }] }), HOST), /unknown rlimit/);
  assert.throws(() => buildSpec(undefined, baseOptions({ rlimits: [{ type: 'nofile', soft: 2, hard: 1 }] }), HOST), /above the hard/);
});

test('resources: memory, cpus, pids', () => {
  const spec = buildSpec(undefined, baseOptions({ resources: { memory: 512 * 1024 * 1024, cpus: 1.5, pids: 100 } }), HOST);
  assert.equal(spec.linux.resources, { memory: { limit: 536870912 }, cpu: { quota: 150000, period: 100000 }, pids: { limit: 100 } });
  assert.is(buildSpec(undefined, baseOptions({ resources: {} }), HOST).linux.resources, undefined);
  assert.throws(() => buildSpec(undefined, baseOptions({ resources: { cpus: 0 } }), HOST), /cpus/);
});

test('seccomp: default profile converted with the container caps; unconfined; missing profile is an error', () => {
  const spec = buildSpec(undefined, baseOptions(), HOST);
  const s = spec.linux.seccomp!;
  assert.is(s.defaultAction, 'SCMP_ACT_ERRNO');
  assert.is(s.defaultErrnoRet, 38);
  assert.equal(s.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  // chroot allowed (SYS_CHROOT is a default cap), bpf/setns refused with EPERM (no SYS_ADMIN).
  assert.ok(s.syscalls!.some((r) => r.names.includes('chroot') && r.action === 'SCMP_ACT_ALLOW'));
  assert.ok(s.syscalls!.some((r) => r.names.includes('bpf') && r.action === 'SCMP_ACT_ERRNO' && r.errnoRet === 1));
  assert.not.ok(s.syscalls!.some((r) => r.names.includes('bpf') && r.action === 'SCMP_ACT_ALLOW'));
  // With SYS_ADMIN added the allow rule replaces the errno one.
  const admin = buildSpec(undefined, baseOptions({ capAdd: ['SYS_ADMIN'] }), HOST).linux.seccomp!;
  assert.ok(admin.syscalls!.some((r) => r.names.includes('bpf') && r.action === 'SCMP_ACT_ALLOW'));
  assert.not.ok(admin.syscalls!.some((r) => r.names.includes('bpf') && r.action === 'SCMP_ACT_ERRNO'));
  // Dropping SYS_CHROOT turns chroot into EPERM.
  const nochroot = buildSpec(undefined, baseOptions({ capDrop: ['SYS_CHROOT'] }), HOST).linux.seccomp!;
  assert.ok(nochroot.syscalls!.some((r) => r.names.includes('chroot') && r.action === 'SCMP_ACT_ERRNO'));
  assert.is(buildSpec(undefined, baseOptions({ seccomp: 'unconfined' }), HOST).linux.seccomp, undefined);
  assert.throws(() => buildSpec(undefined, baseOptions(), { ...HOST, seccompProfile: undefined }), /install containers-common/);
});

test.run();
