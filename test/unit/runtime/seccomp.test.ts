import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { ALL_CAPABILITIES, DEFAULT_CAPABILITIES, capabilitiesFromMask, mergeCapabilities } from '../../../packages/runtime/src/capabilities.ts';
import { currentBoundingSet, parseProcLimits } from '../../../packages/runtime/src/host.ts';
import { errnoValue, loadSeccompProfile, nativeSeccompArch, profileToSpec } from '../../../packages/runtime/src/seccomp.ts';
import { PROFILE } from './helpers.ts';

const DEFAULTS = [...DEFAULT_CAPABILITIES];

test('profileToSpec: personality argument rules are kept, each with its args', () => {
  const s = profileToSpec(PROFILE, { bounding: DEFAULTS, arch: 'amd64' })!;
  const personality = s.syscalls!.filter((r) => r.names.includes('personality'));
  assert.equal(personality, [
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 0, valueTwo: 0, op: 'SCMP_CMP_EQ' }] },
    { names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: 8, valueTwo: 0, op: 'SCMP_CMP_EQ' }] },
  ]);
  // Rules without args carry no args field; errno names become numbers.
  assert.equal(s.syscalls![0], { names: ['read', 'write', 'exit_group'], action: 'SCMP_ACT_ALLOW' });
  assert.ok(s.syscalls!.some((r) => r.names.includes('setns') && r.errnoRet === 1));
});

test('profileToSpec: arch conditions and archMap follow the native arch', () => {
  const amd = profileToSpec(PROFILE, { bounding: DEFAULTS, arch: 'amd64' })!;
  assert.ok(amd.syscalls!.some((r) => r.names.includes('arch_prctl')));
  assert.not.ok(amd.syscalls!.some((r) => r.names.includes('set_tls')));
  const arm = profileToSpec(PROFILE, { bounding: DEFAULTS, arch: 'arm64' })!;
  assert.equal(arm.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
  assert.ok(arm.syscalls!.some((r) => r.names.includes('set_tls')));
  assert.not.ok(arm.syscalls!.some((r) => r.names.includes('arch_prctl')));
  // An arch without an archMap entry: no architectures (libseccomp uses the native one).
  assert.is(profileToSpec(PROFILE, { bounding: DEFAULTS, arch: 'ppc64le' })!.architectures, undefined);
});

test('profileToSpec: cap conditions test the bounding set (rules for caps not granted dropped)', () => {
  const without = profileToSpec(PROFILE, { bounding: DEFAULTS, arch: 'amd64' })!;
  // AUDIT_WRITE is not a default cap: the restricted socket rule stays, the plain allow goes.
  assert.ok(without.syscalls!.some((r) => r.names.includes('socket') && r.action === 'SCMP_ACT_ERRNO' && r.errnoRet === 22));
  assert.not.ok(without.syscalls!.some((r) => r.names.includes('socket') && r.action === 'SCMP_ACT_ALLOW'));
  const withCap = profileToSpec(PROFILE, { bounding: [...DEFAULTS, 'CAP_AUDIT_WRITE'], arch: 'amd64' })!;
  assert.equal(withCap.syscalls!.filter((r) => r.names.includes('socket')), [{ names: ['socket'], action: 'SCMP_ACT_ALLOW' }]);
});

test('profileToSpec: defaults, single name form, invalid combinations', () => {
  assert.is(profileToSpec({ defaultAction: '' }, { bounding: [] }), undefined);
  const s = profileToSpec({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'kill', action: 'SCMP_ACT_ERRNO', errno: 'EPERM' }] }, { bounding: [] })!;
  assert.equal(s, { defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ names: ['kill'], action: 'SCMP_ACT_ERRNO', errnoRet: 1 }] });
  assert.throws(() => profileToSpec({ defaultAction: 'SCMP_ACT_ALLOW', architectures: ['SCMP_ARCH_X86_64'], archMap: [{ architecture: 'x' }] }, { bounding: [] }), /both/);
  assert.throws(() => profileToSpec({ defaultAction: 'SCMP_ACT_ALLOW', syscalls: [{ name: 'a', names: ['b'], action: 'SCMP_ACT_ALLOW' }] }, { bounding: [] }), /both/);
  assert.throws(() => errnoValue('ENOTANERRNO'), /unknown errno/);
  assert.is(errnoValue('38'), 38);
  assert.is(errnoValue('ENOSYS'), 38);
});

const SYSTEM_PROFILE = '/usr/share/containers/seccomp.json';
(existsSync(SYSTEM_PROFILE) ? test : test.skip)('the installed containers-common profile converts as podman would', () => {
  const profile = loadSeccompProfile(SYSTEM_PROFILE);
  const s = profileToSpec(profile, { bounding: DEFAULTS, arch: nativeSeccompArch() })!;
  assert.is(s.defaultAction, 'SCMP_ACT_ERRNO');
  assert.is(s.defaultErrnoRet, 38);
  if (nativeSeccompArch() === 'amd64') assert.equal(s.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  const p = s.syscalls!.filter((r) => r.names.includes('personality'));
  assert.ok(p.length >= 4, 'personality rules kept');
  assert.ok(p.every((r) => r.args && r.args.length === 1 && r.args[0]!.op === 'SCMP_CMP_EQ'));
  assert.ok(s.syscalls!.some((r) => r.names.includes('read') && r.action === 'SCMP_ACT_ALLOW'));
  // Not granted: SYS_ADMIN-only syscalls get EPERM, never allow.
  assert.not.ok(s.syscalls!.some((r) => r.names.includes('bpf') && r.action === 'SCMP_ACT_ALLOW'));
  assert.ok(s.syscalls!.some((r) => r.names.includes('bpf') && r.action === 'SCMP_ACT_ERRNO'));
  assert.not.ok(s.syscalls!.some((r) => r.names.includes('open_by_handle_at') && r.action === 'SCMP_ACT_ALLOW'));
  // No profile-only fields leak into the spec.
  assert.not.ok(JSON.stringify(s).includes('"includes"'));
  assert.not.ok(JSON.stringify(s).includes('"comment"'));
});

test('capabilities: masks, merging', () => {
  assert.equal(capabilitiesFromMask('00000000800405fb'), [...DEFAULTS].sort((a, b) => ALL_CAPABILITIES.indexOf(a) - ALL_CAPABILITIES.indexOf(b)));
  assert.is(capabilitiesFromMask('000001ffffffffff').length, 41);
  assert.equal(mergeCapabilities(['CAP_KILL'], ['chown'], ['kill']), ['CAP_CHOWN']);
  assert.ok(currentBoundingSet().length > 0);
  assert.equal(currentBoundingSet('Name:\tx\nCapBnd:\t0000000000000003\n'), ['CAP_CHOWN', 'CAP_DAC_OVERRIDE']);
});

test('parseProcLimits', () => {
  const text = [
    'Limit                     Soft Limit           Hard Limit           Units     ',
    'Max cpu time              unlimited            unlimited            seconds   ',
    'Max processes             96365                96365                processes ',
    'Max open files            1024                 20000                files     ',
    'Max nice priority         0                    0                    ',
  ].join('\n');
  const m = parseProcLimits(text);
  assert.equal(m.get('Max open files'), { soft: 1024, hard: 20000 });
  assert.equal(m.get('Max processes'), { soft: 96365, hard: 96365 });
  assert.equal(m.get('Max cpu time'), { soft: Infinity, hard: Infinity });
  assert.equal(m.get('Max nice priority'), { soft: 0, hard: 0 });
});

test.run();
