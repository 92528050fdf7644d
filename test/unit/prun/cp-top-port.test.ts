// The pure parts of prun cp, top and port: argument reading, where a copy lands, GNU tar
// renames, the stdin tar owner rewrite (checked with the real GNU tar), psgo's formats, and
// port lookups.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { linkSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { StoreError } from '../../../packages/storage/src/errors.ts';
import type { ContainerRecord } from '../../../packages/storage/src/container-store.ts';
import { isContentsPath, parseEndpoint, planExtract, renameTransform } from '../../../packages/prun/src/actions/cp.ts';
import { TarOwnerRewriter } from '../../../packages/prun/src/actions/tar-owner.ts';
import { capNames, goDuration, translateDescriptors, ttyName } from '../../../packages/prun/src/actions/top.ts';
import { containerPorts, lookupPort, portLines } from '../../../packages/prun/src/actions/port.ts';

const base = mkdtempSync(join(tmpdir(), 'pkit-cp-unit-'));

function tar(args: string[], input?: Buffer): { stdout: Buffer; stderr: string; status: number | null } {
  const r = spawnSync('tar', args, { input, maxBuffer: 64 << 20 });
  return { stdout: r.stdout, stderr: r.stderr.toString(), status: r.status };
}

test('parseEndpoint reads arguments as podman does', () => {
  assert.equal(parseEndpoint('-'), { kind: 'stdio' });
  assert.equal(parseEndpoint('web:/etc/passwd'), { kind: 'container', ref: 'web', path: '/etc/passwd' });
  assert.equal(parseEndpoint('web:rel'), { kind: 'container', ref: 'web', path: 'rel' });
  assert.equal(parseEndpoint('./a:b'), { kind: 'host', path: './a:b' });
  assert.equal(parseEndpoint('/x:y'), { kind: 'host', path: '/x:y' });
  assert.equal(parseEndpoint('plain'), { kind: 'host', path: 'plain' });
  assert.ok(isContentsPath('d/.') && isContentsPath('.') && !isContentsPath('d/.x') && !isContentsPath('d'));
});

test('planExtract: into a directory, as a new name, and podman\'s refusals', () => {
  const file = { stdin: false, isDir: false, contents: false, topName: 'a', name: 'a' };
  const dir = { ...file, isDir: true, topName: 'd', name: 'd' };
  const dest = (kind: 'dir' | 'file' | 'missing', resolved: string, given = resolved) => ({
    kind,
    resolved,
    given,
    notFound: (reason: string) => new StoreError(`"${given}" could not be found: ${reason}`, 'PKIT_NOT_FOUND'),
  });
  assert.equal(planExtract(file, dest('dir', '/t')), { dir: '/t' });
  assert.equal(planExtract({ ...file, topName: 'real', name: 'link' }, dest('dir', '/t')), { dir: '/t', rename: { from: 'real', to: 'link' } });
  assert.equal(planExtract(file, dest('missing', '/t/new')), { dir: '/t', rename: { from: 'a', to: 'new' } });
  assert.equal(planExtract(file, dest('file', '/t/old')), { dir: '/t', rename: { from: 'a', to: 'old' } });
  assert.equal(planExtract({ ...dir, contents: true, topName: '.' }, dest('missing', '/t/n')), { dir: '/t', rename: { from: '.', to: 'n' } });
  assert.equal(planExtract({ ...dir, contents: true, topName: '.' }, dest('dir', '/t')), { dir: '/t' });
  assert.throws(() => planExtract(dir, dest('file', '/t/old')), /destination must be a directory when copying a directory/);
  assert.throws(() => planExtract(file, dest('file', '/t/old', '/t/old/')), /not a directory/);
  assert.throws(() => planExtract(file, dest('missing', '/t/n', '/t/n/')), /no such file or directory/);
  const stdin = { stdin: true, isDir: false, contents: false, topName: '', name: '' };
  assert.equal(planExtract(stdin, dest('dir', '/t')), { dir: '/t' });
  assert.throws(() => planExtract(stdin, dest('missing', '/t/n')), /must be a directory when copying from stdin/);
  assert.throws(() => planExtract(stdin, dest('missing', '/t/n', '/t/n/')), /no such file or directory/);
});

test('renameTransform renames the top entry with GNU tar, whatever characters its name has', () => {
  const odd = 'we.ird*[x]^$\\&';
  const src = join(base, 'rename-src');
  mkdirSync(join(src, odd), { recursive: true });
  writeFileSync(join(src, odd, 'f'), '1\n');
  linkSync(join(src, odd, 'f'), join(src, odd, 'hard'));
  symlinkSync(`${odd}/f`, join(src, odd, 'l'));
  mkdirSync(join(src, `${odd}x`));
  const archive = tar(['-C', src, '--no-unquote', '-cf', '-', '--', odd, `${odd}x`]).stdout;
  const out = join(base, 'rename-out');
  mkdirSync(out);
  const r = tar(['-C', out, '-xf', '-', `--transform=${renameTransform(odd, 'N&W\\')}`], archive);
  assert.is(r.status, 0, r.stderr);
  assert.is(readFileSync(join(out, 'N&W\\', 'hard'), 'utf8'), '1\n');
  // Symlink targets are left alone; a sibling that only starts with the name is not renamed.
  assert.is(spawnSync('readlink', [join(out, 'N&W\\', 'l')]).stdout.toString().trim(), `${odd}/f`);
  assert.ok(spawnSync('test', ['-d', join(out, `${odd}x`)]).status === 0);
  assert.throws(() => renameTransform('a\nb', 'c'), /control characters/);
});

test('TarOwnerRewriter gives every entry one owner, drops pax owner records, keeps the data', async () => {
  const src = join(base, 'owner-src');
  const data = Buffer.alloc(70_000, 7);
  for (const format of ['pax', 'gnu', 'ustar']) {
    // Names longer than ustar's 100 characters where the format has records for them.
    const long = (format === 'ustar' ? 'u' : format[0]!).repeat(format === 'ustar' ? 90 : 150);
    rmSync(join(src, 'dir'), { recursive: true, force: true });
    mkdirSync(join(src, 'dir', long), { recursive: true });
    writeFileSync(join(src, 'dir', long, 'big'), data);
    symlinkSync('big', join(src, 'dir', long, 'sl'));
    const extra = format === 'pax' ? ['--pax-option=uid:=55,gid:=66,uname:=who,gname:=them'] : [];
    const made = tar(['-C', src, `--format=${format}`, ...extra, '--owner=:7', '--group=:8', '-cf', '-', 'dir']);
    assert.is(made.status, 0, `${format}: ${made.stderr}`);
    const archive = made.stdout;
    // Fed in odd-sized pieces, so that headers straddle chunks.
    const pieces: Buffer[] = [];
    for (let i = 0; i < archive.length; i += 333) pieces.push(archive.subarray(i, i + 333));
    const chunks: Buffer[] = [];
    for await (const c of Readable.from(pieces).pipe(new TarOwnerRewriter(1000, 1001))) chunks.push(c as Buffer);
    const rewritten = Buffer.concat(chunks);
    const list = tar(['-tvf', '-', '--numeric-owner'], rewritten);
    assert.is(list.status, 0, `${format}: ${list.stderr}`);
    const lines = list.stdout.toString().trim().split('\n');
    assert.is(lines.length, 4, `${format}: ${lines.join('\n')}`);
    for (const l of lines) assert.match(l, / 1000\/1001 /, `${format}: ${l}`);
    const content = tar(['-xOf', '-', `dir/${long}/big`], rewritten);
    assert.ok(content.stdout.equals(data), `${format}: data changed`);
  }
});

test('TarOwnerRewriter refuses a corrupt header instead of passing it on', async () => {
  const bad = Buffer.alloc(1024);
  bad.write('name', 0);
  bad.write('zz', 124); // size field that is not octal
  const run = async () => {
    for await (const c of Readable.from([bad]).pipe(new TarOwnerRewriter(1, 1))) void c;
  };
  try {
    await run();
    assert.unreachable('should have failed');
  } catch (err) {
    assert.instance(err, StoreError);
  }
});

test('goDuration prints as Go\'s time.Duration', () => {
  assert.is(goDuration(0n), '0s');
  assert.is(goDuration(999n), '999ns');
  assert.is(goDuration(1500n), '1.5µs');
  assert.is(goDuration(1_500_000n), '1.5ms');
  assert.is(goDuration(2_000_000_000n), '2s');
  assert.is(goDuration(1_430_656_757n), '1.430656757s');
  assert.is(goDuration(154_144_107_897n), '2m34.144107897s');
  assert.is(goDuration(3_661_000_000_000n), '1h1m1s');
  assert.is(goDuration(3_600_000_000_000n), '1h0m0s');
});

test('ttyName, capNames and descriptors as psgo shows them', () => {
  assert.is(ttyName(0), '?');
  assert.is(ttyName((136 << 8) | 3), 'pts/3');
  assert.is(ttyName((137 << 8) | 1), 'pts/257');
  assert.is(ttyName((4 << 8) | 1), 'tty1');
  assert.is(capNames('0000000000000000', 40), 'none');
  assert.is(capNames('000001ffffffffff', 40), 'full');
  assert.is(capNames('00000000800405fb', 40), 'CHOWN,DAC_OVERRIDE,FOWNER,FSETID,KILL,NET_BIND_SERVICE,SETFCAP,SETGID,SETPCAP,SETUID,SYS_CHROOT');
  assert.equal(translateDescriptors([])?.map((d) => d.header), ['USER', 'PID', 'PPID', '%CPU', 'ELAPSED', 'TTY', 'TIME', 'COMMAND']);
  assert.equal(translateDescriptors(['%p', 'hpid', 'capeff'])?.map((d) => d.header), ['PID', 'HPID', 'EFFECTIVE CAPS']);
  assert.is(translateDescriptors(['-eo', 'pid']), undefined);
  assert.is(translateDescriptors(['pid,user']), undefined);
});

test('port: records read in either spelling, sorted as podman, looked up by PORT[/PROTO]', () => {
  const rec = {
    config: {
      ports: [
        { hostIp: '::1', hostPort: 9000, containerPort: 90, protocol: 'tcp' },
        { hostIP: '', hostPort: 8080, containerPort: 80, range: 3, protocol: 'tcp' },
        { hostIP: '127.0.0.1', hostPort: 5353, containerPort: 53, range: 1, protocol: 'udp' },
        { bogus: true },
      ],
    },
  } as unknown as ContainerRecord;
  const ports = containerPorts(rec);
  assert.equal(portLines(ports), [
    '80/tcp -> 0.0.0.0:8080',
    '81/tcp -> 0.0.0.0:8081',
    '82/tcp -> 0.0.0.0:8082',
    '90/tcp -> ::1:9000',
    '53/udp -> 127.0.0.1:5353',
  ]);
  assert.is(lookupPort(ports, '82'), '0.0.0.0:8082');
  assert.is(lookupPort(ports, '53/udp'), '127.0.0.1:5353');
  assert.is(lookupPort(ports, '53'), undefined);
  assert.is(lookupPort(ports, '83'), undefined);
  assert.throws(() => lookupPort(ports, '70000'), /invalid port/);
  assert.throws(() => lookupPort(ports, '80/icmp'), /invalid port/);
});

test.run();
