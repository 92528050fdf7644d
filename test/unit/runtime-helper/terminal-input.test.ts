// pkit-runtime's terminal proxy (run and exec without --console-socket) and what reaches the
// container's terminal: input typed before the proxy went raw, the window size, SIGWINCH.
// A small python3 driver holds the pty master (script(1) cannot be told when to type), so the
// order of events is fixed: the input is in the terminal's queue before the runtime starts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundle, nextId, runtimes, work } from './bundle.ts';

/* argv[1]: {argv, size: [rows, cols], typed, on: [{seen, size?, write?}], timeout}.
 * `typed` is written to the master and processed by the line discipline (canonical mode, as
 * a shell leaves it) before argv starts on the slave as its controlling terminal; each `on`
 * step runs once the output so far contains `seen`. Prints {out, status} as JSON. */
const PTY_DRIVER = `
import fcntl, json, os, select, struct, sys, termios, time
spec = json.loads(sys.argv[1])
master, slave = os.openpty()
def set_size(rows, cols):
    fcntl.ioctl(master, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
set_size(*spec["size"])
typed = spec.get("typed", "").encode("latin-1")
if typed:
    os.write(master, typed)
    # canonical mode: readable once a line or an end-of-file is in the queue
    select.select([slave], [], [], 5)
pid = os.fork()
if pid == 0:
    os.setsid()
    fcntl.ioctl(slave, termios.TIOCSCTTY, 0)
    for fd in (0, 1, 2):
        os.dup2(slave, fd)
    os.closerange(3, 256)
    os.execvp(spec["argv"][0], spec["argv"])
os.close(slave)
out = b""
steps = list(spec.get("on", []))
deadline = time.monotonic() + spec.get("timeout", 20)
while True:
    left = deadline - time.monotonic()
    if left <= 0:
        os.kill(pid, 9)
        out += b"<timed out>"
        break
    r, _, _ = select.select([master], [], [], left)
    if not r:
        continue
    try:
        d = os.read(master, 4096)
    except OSError:
        break
    if not d:
        break
    out += d
    while steps and steps[0]["seen"].encode() in out:
        s = steps.pop(0)
        if "size" in s:
            set_size(*s["size"])
        if "write" in s:
            os.write(master, s["write"].encode("latin-1"))
_, st = os.waitpid(pid, 0)
print(json.dumps({"out": out.decode("latin-1"), "status": os.waitstatus_to_exitcode(st)}))
`;

interface Step { seen: string; size?: [number, number]; write?: string }
interface PtyRun { argv: string[]; size: [number, number]; typed?: string; on?: Step[]; timeout?: number }

function onPty(spec: PtyRun): { out: string; status: number } {
  const r = spawnSync('python3', ['-c', PTY_DRIVER, JSON.stringify(spec)], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) throw new Error(`pty driver failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

const hasPython = spawnSync('python3', ['--version']).status === 0;
const pkit = runtimes().find((r) => r.name === 'pkit-runtime')!;
const t = suite('terminal input: pkit-runtime proxy');

/** Detached verbs with files for stdio (a started container keeps what it is given). */
function verb(args: string[]) {
  const [cmd, ...rest] = pkit.argv(args);
  const base = join(work, nextId('out'));
  const out = openSync(`${base}.out`, 'w+'), err = openSync(`${base}.err`, 'w+');
  const r = spawnSync(cmd!, rest, { stdio: ['ignore', out, err], timeout: 30_000 });
  closeSync(out); closeSync(err);
  return { status: r.status, stderr: readFileSync(`${base}.err`, 'utf8') };
}

function started(): string {
  const b = bundle({ args: ['sleep', '120'] });
  const id = nextId();
  let r = verb(['create', '--bundle', b, id]);
  assert.is(r.status, 0, r.stderr);
  r = verb(['start', id]);
  assert.is(r.status, 0, r.stderr);
  return id;
}

// script(1) ends its input so (its stdin at EOF, as under `script -qec CMD /dev/null`): the
// terminal keeps the end-of-file as a NUL that raw mode turns into an input byte.
t('run: a line and an end-of-file typed before the start arrive as typed, no NUL (^@)', () => {
  if (!hasPython) { console.error('terminal input: python3 missing, skipped'); return; }
  const b = bundle({
    args: ['sh', '-c', 'read a; echo "a=[$a]"; read b; echo "eof=$? b=[$b]"'],
    mutate: (c) => { c.process.terminal = true; },
  });
  const r = onPty({ argv: pkit.argv(['run', '--bundle', b, nextId()]), size: [30, 100], typed: 'abc\n\x04', timeout: 15 });
  assert.not.match(r.out, /\^@/);
  assert.match(r.out, /a=\[abc\]\r\n/);
  assert.match(r.out, /eof=1 b=\[\]\r\n/);
  assert.is(r.status, 0, r.out);
});

t('run --no-stdin (prun run -t without -i): a terminal, but nothing typed reaches it', () => {
  if (!hasPython) return;
  const b = bundle({
    args: ['sh', '-c', 'tty; if read -t 2 a; then echo "got=[$a]"; else echo "no input"; fi'],
    mutate: (c) => { c.process.terminal = true; },
  });
  const r = onPty({ argv: pkit.argv(['run', '--no-stdin', '--bundle', b, nextId()]), size: [30, 100], typed: 'abc\n', timeout: 15 });
  // (the line was echoed by our terminal when it was typed; the container never reads it)
  assert.match(r.out.replace(/\r/g, ''), /\/dev\/pts\/0\nno input\n$/);
  assert.not.match(r.out, /got=/);
  assert.is(r.status, 0, r.out);
  const withInput = onPty({ argv: pkit.argv(['run', '--bundle', b, nextId()]), size: [30, 100], typed: 'abc\n', timeout: 15 });
  assert.match(withInput.out, /got=\[abc\]/, 'without --no-stdin the typed line arrives');
});

t('run: the end-of-file alone (script(1) with no input) does not echo ^@', () => {
  if (!hasPython) return;
  const b = bundle({ args: ['sh', '-c', 'echo x; read b; echo "eof=$?"'], mutate: (c) => { c.process.terminal = true; } });
  const r = onPty({ argv: pkit.argv(['run', '--bundle', b, nextId()]), size: [30, 100], typed: '\x04', timeout: 15 });
  assert.is(r.out.replace(/\r/g, ''), 'x\neof=1\n');
  assert.is(r.status, 0, r.out);
});

t('exec -t: no ^@ from an end-of-file typed before; the terminal size, and SIGWINCH followed', () => {
  if (!hasPython) return;
  const id = started();
  try {
    let r = onPty({ argv: pkit.argv(['exec', '-t', id, 'sh', '-c', 'tty; read b; echo "eof=$?"']), size: [30, 100], typed: '\x04', timeout: 15 });
    assert.is(r.out.replace(/\r/g, ''), '/dev/pts/0\neof=1\n');
    assert.is(r.status, 0, r.out);

    r = onPty({
      argv: pkit.argv(['exec', '-t', id, 'sh', '-c', 'stty size; read x; stty size']),
      size: [30, 100],
      on: [{ seen: '30 100\r\n', size: [40, 120], write: 'go\n' }],
      timeout: 15,
    });
    assert.match(r.out, /^30 100\r\ngo\r\n40 120\r\n$/);
    assert.is(r.status, 0, r.out);

    // as prun exec -t calls it: --process with terminal (and no consoleSize)
    const pj = join(work, `${nextId('process')}.json`);
    writeFileSync(pj, JSON.stringify({
      terminal: true, user: { uid: 0, gid: 0 }, args: ['stty', 'size'], env: ['PATH=/bin:/usr/bin', 'TERM=xterm'], cwd: '/',
    }));
    r = onPty({ argv: pkit.argv(['exec', '--process', pj, id]), size: [33, 111], timeout: 15 });
    assert.is(r.out, '33 111\r\n');
    assert.is(r.status, 0, r.out);
  } finally {
    verb(['delete', '--force', id]);
  }
});

t('run: the terminal size, and SIGWINCH followed', () => {
  if (!hasPython) return;
  const b = bundle({ args: ['sh', '-c', 'stty size; read x; stty size'], mutate: (c) => { c.process.terminal = true; } });
  const r = onPty({
    argv: pkit.argv(['run', '--bundle', b, nextId()]),
    size: [30, 100],
    on: [{ seen: '30 100\r\n', size: [41, 121], write: 'go\n' }],
    timeout: 15,
  });
  assert.match(r.out, /^30 100\r\ngo\r\n41 121\r\n$/);
  assert.is(r.status, 0, r.out);
});

t.run();
