// `pkit-runtime run --detach`: the monitor process (native/helper/monitor.c). pkit-runtime
// only: crun has no monitor of its own (podman pairs it with conmon).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundle, helper, nextId, until, work } from './bundle.ts';

const t = suite('monitor: run --detach');
t.before(() => { helper(); }); // the build is not part of what is timed
// a failed test leaves no container (nor monitor) running
t.after(() => {
  if (!existsSync(root)) return;
  for (const id of readdirSync(root)) verb(['delete', '--force', id]);
});
const root = join(work, 'state-monitor');
const rt = (args: string[]) => [helper(), '--root', root, ...args];

function verb(args: string[], timeout = 30_000) {
  const [cmd, ...rest] = rt(args);
  // Plain pipes: spawnSync waits until every holder of them closed its end, so a monitor
  // that kept the caller's stdout or stderr would show here as a timeout.
  const r = spawnSync(cmd!, rest, { stdio: ['ignore', 'pipe', 'pipe'], timeout, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr, error: r.error };
}

interface Detached { id: string; log: string; exitDir: string; monitorPid: number; pid: number; ms: number }

/** run --detach with a log, an exit dir and the pid files; asserts it returned 0 at once. */
function detach(args: string[], extra: string[] = [], mutate?: (c: Record<string, any>) => void): Detached {
  const id = nextId('mon');
  const b = bundle({ args, mutate });
  const log = join(work, `${id}.log`), exitDir = join(work, `${id}-exits`);
  const pidFile = join(work, `${id}.pid`), monFile = join(work, `${id}.monitor-pid`);
  const t0 = Date.now();
  const r = verb(['run', '--detach', '--log-path', log, '--exit-dir', exitDir, '--pid-file', pidFile,
    '--monitor-pid-file', monFile, ...extra, '--bundle', b, id], 10_000);
  const ms = Date.now() - t0;
  assert.is(r.error, undefined, `run --detach did not return: ${r.error}`);
  assert.is(r.status, 0, r.stderr);
  assert.is(r.stdout, '', 'run --detach prints nothing (as crun)');
  assert.is(r.stderr, '');
  return { id, log, exitDir, ms, pid: Number(readFileSync(pidFile, 'utf8')), monitorPid: Number(readFileSync(monFile, 'utf8')) };
}

const state = (id: string) => {
  const r = verb(['state', id]);
  assert.is(r.status, 0, r.stderr);
  return JSON.parse(r.stdout) as { id: string; status: string; pid: number };
};
const stateJson = (id: string) => JSON.parse(readFileSync(join(root, id, 'state.json'), 'utf8'));
const exitFile = (id: string) => join(root, id, 'exit');

/** Waits for the recorded exit; returns the code from <root>/<id>/exit. */
async function exited(d: Detached, ms = 10_000): Promise<number> {
  await until(() => existsSync(join(d.exitDir, d.id)), ms);
  const code = Number(readFileSync(exitFile(d.id), 'utf8'));
  assert.is(readFileSync(join(d.exitDir, d.id), 'utf8'), String(code));
  return code;
}

/** /proc/PID/stat fields after the command name: [state, ppid, pgrp, session, ...] */
function procStat(pid: number): string[] | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return s.slice(s.lastIndexOf(')') + 2).split(' ');
  } catch { return undefined; }
}
const alive = (pid: number) => { const s = procStat(pid); return s !== undefined && s[0] !== 'Z' && s[0] !== 'X'; };

interface Rec { time: string; stream: string; flag: string; text: string }
const RECORD = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z) (stdout|stderr) ([PF]) (.*)$/s;
function records(log: string): Rec[] {
  const txt = readFileSync(log, 'utf8');
  assert.ok(txt === '' || txt.endsWith('\n'), 'every record ends with a newline');
  return txt.split('\n').slice(0, -1).map((line) => {
    const m = RECORD.exec(line);
    assert.ok(m, `not a k8s-file record: ${JSON.stringify(line.slice(0, 200))}`);
    return { time: m![1]!, stream: m![2]!, flag: m![3]!, text: m![4]! };
  });
}
/** A stream's output put back together from its records. */
const joined = (recs: Rec[], stream: string) =>
  recs.filter((r) => r.stream === stream).map((r) => r.text + (r.flag === 'F' ? '\n' : '')).join('');

t('returns at once while the container runs; state running -> stopped; SIGKILL is 137', async () => {
  const d = detach(['sleep', '60']);
  assert.ok(d.ms < 3000, `run --detach took ${d.ms} ms`);
  let s = state(d.id);
  assert.is(s.status, 'running');
  assert.is(s.pid, d.pid);
  await until(() => readFileSync(`/proc/${d.pid}/cmdline`, 'utf8').startsWith('sleep'));
  assert.ok(alive(d.monitorPid));
  assert.not.ok(existsSync(exitFile(d.id)));
  const r = verb(['kill', d.id, 'KILL']);
  assert.is(r.status, 0, r.stderr);
  assert.is(await exited(d), 137);
  s = state(d.id);
  assert.is(s.status, 'stopped');
  const j = stateJson(d.id);
  assert.is(j.exitCode, 137);
  assert.ok(Math.abs(Date.parse(j.exitedAt) - Date.now()) < 60_000, j.exitedAt);
  assert.is(j.monitorPid, d.monitorPid);
  // the monitor is gone with the container
  await until(() => !alive(d.monitorPid));
  assert.is(verb(['kill', d.id, 'TERM']).status, 125, 'a stopped container cannot be signalled');
  assert.is(verb(['delete', d.id]).status, 0);
  assert.not.ok(existsSync(join(root, d.id)));
});

t('exit code, log records of both streams in k8s-file format, a partial last line', async () => {
  const d = detach(['sh', '-c', 'echo out1; echo err1 >&2; echo; printf "a\\nb"; exit 7']);
  assert.is(await exited(d), 7);
  assert.is(stateJson(d.id).exitCode, 7);
  const recs = records(d.log);
  assert.is(joined(recs, 'stdout'), 'out1\n\na\nb');
  assert.is(joined(recs, 'stderr'), 'err1\n');
  const last = recs.filter((r) => r.stream === 'stdout').at(-1)!;
  assert.equal([last.flag, last.text], ['P', 'b'], 'the last line, without its newline, is a partial record');
  assert.ok(recs.some((r) => r.stream === 'stdout' && r.flag === 'F' && r.text === ''), 'an empty line is an F record with no text');
  assert.ok(readFileSync(d.log, 'utf8').includes(' stderr F err1\n'));
  for (const r of recs) assert.ok(Math.abs(Date.parse(r.time) - Date.now()) < 60_000, r.time);
  await until(() => !alive(d.monitorPid));
  assert.is(state(d.id).status, 'stopped');
  assert.is(verb(['delete', d.id]).status, 0);
});

t('the log is appended to, not truncated', async () => {
  const d = detach(['sh', '-c', 'echo first']);
  await exited(d);
  assert.is(verb(['delete', d.id]).status, 0);
  const b = bundle({ args: ['sh', '-c', 'echo second'] });
  const id2 = nextId('mon'), exits = join(work, `${id2}-exits`);
  const r = verb(['run', '-d', '--log-path', d.log, '--exit-dir', exits, '--bundle', b, id2]);
  assert.is(r.status, 0, r.stderr);
  await until(() => existsSync(join(exits, id2)));
  assert.is(joined(records(d.log), 'stdout'), 'first\nsecond\n');
  assert.is(verb(['delete', id2]).status, 0);
});

t('kill reaches the init: a TERM trap exits 0, its output logged', async () => {
  const d = detach(['sh', '-c', 'trap "echo got-term; exit 0" TERM; echo ready; while :; do sleep 0.05; done']);
  await until(() => existsSync(d.log) && readFileSync(d.log, 'utf8').includes('ready'));
  assert.is(verb(['kill', d.id, 'TERM']).status, 0);
  assert.is(await exited(d), 0);
  assert.is(joined(records(d.log), 'stdout'), 'ready\ngot-term\n');
  assert.is(verb(['delete', d.id]).status, 0);
});

t('the monitor: own session and group, no fd of the caller, small RSS; gone after the exit', async () => {
  // An extra fd (3) in the caller, and the caller's stdio as pipes we hold.
  const extraPath = join(work, `${nextId('extra')}.txt`);
  const extra = openSync(extraPath, 'w');
  const id = nextId('mon');
  // with podman's seccomp profile (where installed): the largest spec the monitor parsed
  const b = bundle({ args: ['sleep', '60'], seccomp: true });
  const monFile = join(work, `${id}.monitor-pid`);
  const [cmd, ...rest] = rt(['run', '-d', '--monitor-pid-file', monFile, '--bundle', b, id]);
  const child = spawn(cmd!, rest, { stdio: ['pipe', 'pipe', 'pipe', extra] });
  closeSync(extra);
  // 'close' fires once the caller exited and every copy of its stdout/stderr is closed
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.is(code, 0);
  const mon = Number(readFileSync(monFile, 'utf8'));
  assert.ok(alive(mon));
  const st = procStat(mon)!, ours = procStat(process.pid)!;
  assert.is.not(st[2], ours[2], 'not in the caller\'s process group');
  assert.is.not(st[3], ours[3], 'not in the caller\'s session');
  assert.is(st[2], String(mon), 'leads its own process group');
  const fds = readdirSync(`/proc/${mon}/fd`).map((f) => ({ fd: Number(f), to: readlinkSync(`/proc/${mon}/fd/${f}`) }));
  for (const fd of [0, 1, 2]) assert.is(fds.find((f) => f.fd === fd)?.to, '/dev/null');
  assert.not.ok(fds.some((f) => f.to === extraPath), `the caller's fd 3 is held: ${JSON.stringify(fds)}`);
  // what it keeps: the log, the state dir, the container's two pipes, its signalfd
  const kinds = fds.filter((f) => f.fd > 2).map((f) => f.to.startsWith('pipe:') ? 'pipe' : f.to.startsWith('anon_inode:') ? f.to : f.to === join(root, id) ? 'state' : f.to === join(root, id, 'ctr.log') ? 'log' : f.to).sort();
  assert.equal(kinds, ['anon_inode:[signalfd]', 'log', 'pipe', 'pipe', 'state']);
  assert.is(readlinkSync(`/proc/${mon}/cwd`), '/');
  const rssKb = Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${mon}/status`, 'utf8'))![1]);
  assert.ok(rssKb < 4096, `monitor RSS ${rssKb} kB`);
  if (process.env.PKIT_VERBOSE) console.error(`monitor VmRSS: ${rssKb} kB`);
  const pid = state(id).pid;
  assert.is(verb(['delete', '--force', id]).status, 0);
  assert.not.ok(alive(mon), 'delete --force waits for the monitor');
  assert.not.ok(alive(pid));
  assert.not.ok(existsSync(join(root, id)));
});

t('a SIGINT to the caller\'s process group reaches neither the monitor nor the container', async () => {
  const id = nextId('mon');
  // the init traps INT: a signal forwarded by the monitor would show in the log
  const b = bundle({ args: ['sh', '-c', 'trap "echo got-int" INT; echo ready; while :; do sleep 0.05; done'] });
  const monFile = join(work, `${id}.monitor-pid`), log = join(work, `${id}.log`);
  const [cmd, ...rest] = rt(['run', '-d', '--log-path', log, '--monitor-pid-file', monFile, '--bundle', b, id]);
  const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  // a shell in a process group of its own stands for the terminal's foreground job
  const sh = spawn('sh', ['-c', `${[cmd!, ...rest].map(q).join(' ')} && exec sleep 30`], { detached: true, stdio: 'ignore' });
  await until(() => existsSync(log) && readFileSync(log, 'utf8').includes('ready'));
  process.kill(-sh.pid!, 'SIGINT');
  await new Promise((r) => sh.on('exit', r));
  await new Promise((r) => setTimeout(r, 300));
  const mon = Number(readFileSync(monFile, 'utf8'));
  assert.ok(alive(mon));
  assert.is(state(id).status, 'running');
  assert.is(joined(records(log), 'stdout'), 'ready\n');
  assert.is(verb(['kill', id, 'KILL']).status, 0);
  await until(() => existsSync(exitFile(id)));
  assert.is(readFileSync(exitFile(id), 'utf8'), '137');
  await until(() => !alive(mon));
  assert.is(verb(['delete', id]).status, 0);
});

t('--preserve-fds: the container gets the fd, the monitor lets it go', async () => {
  const file = join(work, `${nextId('preserved')}.txt`);
  writeFileSync(file, 'through fd 3\n');
  const fd = openSync(file, 'r');
  const id = nextId('mon');
  const b = bundle({ args: ['sh', '-c', 'cat <&3; sleep 60'] });
  const log = join(work, `${id}.log`), monFile = join(work, `${id}.monitor-pid`);
  const [cmd, ...rest] = rt(['run', '-d', '--preserve-fds', '1', '--log-path', log, '--monitor-pid-file', monFile, '--bundle', b, id]);
  const r = spawnSync(cmd!, rest, { stdio: ['ignore', 'pipe', 'pipe', fd], timeout: 10_000, encoding: 'utf8' });
  closeSync(fd);
  assert.is(r.status, 0, r.stderr);
  await until(() => readFileSync(log, 'utf8').includes('through fd 3'));
  const mon = Number(readFileSync(monFile, 'utf8'));
  const links = readdirSync(`/proc/${mon}/fd`).map((f) => readlinkSync(`/proc/${mon}/fd/${f}`));
  assert.not.ok(links.includes(file), links.join(' '));
  assert.is(verb(['delete', '--force', id]).status, 0);
});

t('stdin is /dev/null, or --stdin FILE', async () => {
  const d = detach(['sh', '-c', 'cat; echo eof']);
  assert.is(await exited(d), 0);
  assert.is(joined(records(d.log), 'stdout'), 'eof\n');
  assert.is(verb(['delete', d.id]).status, 0);
  const input = join(work, `${nextId('in')}.txt`);
  writeFileSync(input, 'from a file\n');
  const d2 = detach(['sh', '-c', 'cat; echo eof'], ['--stdin', input]);
  assert.is(await exited(d2), 0);
  assert.is(joined(records(d2.log), 'stdout'), 'from a file\neof\n');
  assert.is(verb(['delete', d2.id]).status, 0);
});

t('a 5 MB burst is logged completely; a long line is cut into partial records', async () => {
  const line = 'x'.repeat(63); // 64 bytes with the newline: 81920 lines
  const d = detach(['sh', '-c', `yes ${line} | head -c 5242880; head -c 20000 /dev/zero | tr '\\0' y; echo; echo tail >&2`]);
  assert.is(await exited(d, 30_000), 0);
  const recs = records(d.log);
  const out = joined(recs, 'stdout');
  assert.is(out.length, 5242880 + 20001);
  const lines = out.split('\n');
  assert.is(lines.length, 81920 + 2);
  assert.ok(lines.slice(0, 81920).every((l) => l === line), 'every line intact');
  assert.is(lines[81920], 'y'.repeat(20000));
  assert.ok(recs.every((r) => r.text.length <= 8192), 'records are at most 8192 bytes');
  assert.ok(recs.filter((r) => r.stream === 'stdout' && r.flag === 'P').length >= 2, 'the long line took partial records');
  assert.is(joined(recs, 'stderr'), 'tail\n');
  assert.is(verb(['delete', d.id]).status, 0);
});

t('process.terminal without a console socket: the pty is logged as stdout', async () => {
  const d = detach(['sh', '-c', 'echo on a tty; tty; printf part; exit 4'], [], (c) => { c.process.terminal = true; });
  assert.is(await exited(d), 4);
  const recs = records(d.log);
  assert.ok(recs.every((r) => r.stream === 'stdout'));
  // the pty turns \n into \r\n; the \r stays in the text, as under conmon
  assert.is(joined(recs, 'stdout'), 'on a tty\r\n/dev/pts/0\r\npart');
  assert.is(verb(['delete', d.id]).status, 0);
});

t('default log in the state dir; delete removes it', async () => {
  const id = nextId('mon');
  const b = bundle({ args: ['sh', '-c', 'echo hi; exit 3'] });
  assert.is(verb(['run', '-d', '--bundle', b, id]).status, 0);
  await until(() => existsSync(exitFile(id)));
  assert.is(readFileSync(exitFile(id), 'utf8'), '3');
  assert.is(joined(records(join(root, id, 'ctr.log')), 'stdout'), 'hi\n');
  assert.is(verb(['delete', id]).status, 0);
  assert.not.ok(existsSync(join(root, id)));
});

t('setup failures are the caller\'s: command not found 127, bad log path 125, nothing left', () => {
  let id = nextId('mon');
  let r = verb(['run', '-d', '--bundle', bundle({ args: ['no-such-command'] }), id]);
  assert.is(r.status, 127, r.stderr);
  assert.match(r.stderr, /no-such-command/);
  assert.not.ok(existsSync(join(root, id)));
  id = nextId('mon');
  r = verb(['run', '-d', '--log-path', join(work, 'no/such/dir/log'), '--bundle', bundle({ args: ['true'] }), id]);
  assert.is(r.status, 125);
  assert.match(r.stderr, /^pkit-runtime: open the log file .*: No such file or directory\n$/);
  assert.not.ok(existsSync(join(root, id)));
  r = verb(['run', '--log-path', join(work, 'x.log'), '--bundle', bundle({ args: ['true'] }), nextId('mon')]);
  assert.is(r.status, 125);
  assert.match(r.stderr, /need --detach/);
});

t.run();
