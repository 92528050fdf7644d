// process.terminal: the pty master handed to --console-socket (pkit-runtime and crun), and
// pkit-runtime's own proxy when it runs on a terminal without a console socket.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { bundle, nextId, runtimes, until, work, type Runtime } from './bundle.ts';

// Node cannot receive a file descriptor over a unix socket; python3 (on every Debian) can.
const CONSOLE_SERVER = `
import os, socket, sys
path = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.bind(path); s.listen(1)
print("listening", flush=True)
c, _ = s.accept()
msg, fds, flags, addr = socket.recv_fds(c, 16, 1)
master = fds[0]
os.write(master, b"abc\\n")
out = b""
while True:
    try:
        d = os.read(master, 4096)
    except OSError:
        break
    if not d:
        break
    out += d
sys.stdout.write(out.decode(errors="replace"))
`;

const hasPython = spawnSync('python3', ['--version']).status === 0;
const hasScript = spawnSync('script', ['--version']).status === 0;

function terminal(rt: Runtime) {
  const t = suite(`terminal: ${rt.name}`);

  t('--console-socket receives the pty master; the container has it as controlling terminal', async () => {
    if (!hasPython) { console.error('terminal: python3 missing, skipped'); return; }
    const sock = join(work, `${nextId('console')}.sock`);
    const server = spawn('python3', ['-c', CONSOLE_SERVER, sock], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    server.stdout.on('data', (d) => { out += d; });
    const serverDone = new Promise((r) => server.on('close', r));
    await until(() => out.includes('listening') && existsSync(sock));
    const b = bundle({
      args: ['sh', '-c', 'tty; read x; echo got=$x; [ -t 0 ] && echo stdin-is-tty'],
      mutate: (c) => { c.process.terminal = true; c.process.consoleSize = { height: 40, width: 120 }; },
    });
    const id = nextId();
    const argv = rt.argv(['create', '--bundle', b, '--console-socket', sock, id]);
    let r = spawnSync(argv[0]!, argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000, encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    const start = rt.argv(['start', id]);
    r = spawnSync(start[0]!, start.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], timeout: 20_000, encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    await serverDone;
    assert.match(out, /\/dev\/pts\/0/);
    assert.match(out, /got=abc/);
    assert.match(out, /stdin-is-tty/);
    const del = rt.argv(['delete', '--force', id]);
    spawnSync(del[0]!, del.slice(1), { stdio: 'ignore' });
  });

  if (rt.name === 'pkit-runtime') {
    // crun 1.8.1 has no proxy: without --console-socket its run fails on a terminal spec.
    t('without --console-socket on a terminal: proxied, raw, window size passed on', () => {
      if (!hasScript) { console.error('terminal: script (util-linux) missing, skipped'); return; }
      const b = bundle({ args: ['sh', '-c', 'tty; stty size; read x; echo in=$x; exit 4'], mutate: (c) => { c.process.terminal = true; } });
      const cmd = rt.argv(['run', '--bundle', b, nextId()]).map((a) => `'${a}'`).join(' ');
      const r = spawnSync('script', ['-qec', `stty cols 100 rows 30; ${cmd}`, '/dev/null'], { input: 'abc\n', encoding: 'utf8', timeout: 20_000 });
      assert.is(r.status, 4, r.stderr);
      assert.match(r.stdout, /\/dev\/pts\/0\r\n/);
      assert.match(r.stdout, /30 100\r\n/);
      assert.match(r.stdout, /in=abc\r\n/);
    });
  }
  return t;
}

for (const rt of runtimes()) {
  if (!rt.available) continue;
  terminal(rt).run();
}
