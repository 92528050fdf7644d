// Networks made by the createRuntime hook `pkit-runtime network-hook` (slirp4netns, pasta), as
// the spec from @pkit/runtime's networkSetup() asks for them; generic OCI hooks; lo up in a
// network namespace of its own (pkit-runtime and crun alike). The network cases need
// pkit-runtime: crun makes the container's init non-dumpable until it execs, so a hook cannot
// open /proc/PID/ns/* there (podman creates the namespace itself instead).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server } from 'node:net';
import { join } from 'node:path';
import {
  assignHostPorts,
  networkSetup,
  networkTools,
  parseNetwork,
  parsePublish,
} from '../../../packages/runtime/src/network.ts';
import { bundle, helper, nextId, runAsync, runSync, runtimes, until, work, type Runtime } from './bundle.ts';

/** Every hook process of this file carries this in its environment: how strays are found. */
const TAG = `PKIT_NET_TEST=${process.pid}`;

interface NetBundle { dir: string; ports: { hostPort: number; containerPort: number; range: number }[] }

/** A bundle whose hooks are what networkSetup() gives for --network `network` and -p `publish`. */
async function netBundle(args: string[], network: string, publish: string[] = [], mutate?: (c: Record<string, any>) => void): Promise<NetBundle> {
  const ports = await assignHostPorts(publish.map(parsePublish));
  const setup = networkSetup(parseNetwork(network), ports, networkTools({ helper: helper() }));
  const dir = bundle({
    args,
    mutate: (c) => {
      c.hooks = setup.hooks;
      for (const h of c.hooks.createRuntime) h.env = [TAG];
      mutate?.(c);
    },
  });
  return { dir, ports };
}

function procStat(pid: string): { state: string; ppid: string } | undefined {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return { state: f[0]!, ppid: f[1]! };
  } catch {
    return undefined;
  }
}

const cmdline = (pid: string) => {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return '';
  }
};

const uidOf = (pid: string) => {
  try {
    return /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  } catch {
    return undefined;
  }
};

/**
 * Live (not zombie) processes of this file's networks: the supervisors (their environment has
 * TAG), their children (the tools; pasta makes itself non-dumpable, so its environment cannot
 * be read), and slirp4netns or pasta processes of ours left without a parent (podman's own
 * slirp4netns has --netns-type=path).
 */
function networkProcesses(): string[] {
  const supervisors = new Set<string>();
  const all: { pid: string; ppid: string }[] = [];
  for (const pid of readdirSync('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const st = procStat(pid);
    if (!st || st.state === 'Z' || st.state === 'X') continue;
    all.push({ pid, ppid: st.ppid });
    try {
      if (readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0').includes(TAG)) supervisors.add(pid);
    } catch {
      // not ours, or not dumpable
    }
  }
  const me = String(process.getuid!());
  return all
    .filter(({ pid, ppid }) => {
      if (supervisors.has(pid) || supervisors.has(ppid)) return true;
      const c = cmdline(pid);
      return ppid === '1' && uidOf(pid) === me && /^\S*\/(pasta|slirp4netns) /.test(c) && !c.includes('--netns-type=path');
    })
    .map(({ pid }) => `${pid}: ${cmdline(pid)}`);
}

async function noStrays(): Promise<void> {
  await until(() => networkProcesses().length === 0, 8000).catch(() => {});
  assert.equal(networkProcesses(), [], 'no network process outlives the container');
}

/** An HTTP server on the host's 127.0.0.1 (a random port). */
async function hostHttp(): Promise<{ server: HttpServer; port: number }> {
  const server = createHttpServer((_req, res) => res.end('hello from the host\n'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, port: (server.address() as { port: number }).port };
}

/** Connects to 127.0.0.1:port until the container's listener answers; its first line. */
async function readPublished(port: number, ms = 10_000): Promise<string> {
  const end = Date.now() + ms;
  for (;;) {
    const got = await new Promise<string>((resolve) => {
      const s = connect({ port, host: '127.0.0.1' });
      let data = '';
      s.on('data', (d) => { data += d; });
      s.on('error', () => resolve(''));
      s.on('close', () => resolve(data));
      s.setTimeout(2000, () => s.destroy());
    });
    if (got) return got.split('\n')[0]!;
    if (Date.now() > end) throw new Error(`nothing answered on 127.0.0.1:${port}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

function listenOn(port: number): Promise<Server> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen({ port, host: '0.0.0.0', exclusive: true }, () => resolve(s));
  });
}

async function run(rt: Runtime, dir: string) {
  const r = runAsync(rt, ['run', '--bundle', dir, nextId('net')]);
  return r.done;
}

// ---- lo ----------------------------------------------------------------------------------

for (const rt of runtimes()) {
  if (!rt.available) { console.error(`runtime-helper: ${rt.name} not installed, its comparison is skipped`); continue; }
  const lo = suite(`network none: ${rt.name}`);
  lo('lo is up in a network namespace of its own', async () => {
    const r = await run(rt, bundle({ args: ['sh', '-c', 'ip link show lo | grep -o "<.*>"; ip -o link | wc -l'] }));
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, '<LOOPBACK,UP,LOWER_UP>\n1\n');
  });
  lo.run();
}

// ---- pkit-runtime: the networks, their lifetimes and errors --------------------------------

const pkit = runtimes()[0]!;
const stateRoot = join(work, 'state-pkit');
const t = suite('network: pkit-runtime');
// a failed test leaves no container (nor its network) running
t.after.each(() => {
  if (!existsSync(stateRoot)) return;
  for (const id of readdirSync(stateRoot)) if (/^(net|taken|hook)/.test(id)) runSync(pkit, ['delete', '--force', id]);
});

const verb = (args: string[]) => {
  const r = runSync(pkit, args);
  return { status: r.status, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
};

t('slirp4netns: tap0 10.0.2.100, lo up; allow_host_loopback reaches the host\'s 127.0.0.1 at 10.0.2.2', async () => {
  const { server, port } = await hostHttp();
  try {
    const b = await netBundle(['sh', '-c', `ip -4 addr show tap0 | grep -o "inet [0-9./]*"; ip route | grep default; ip link show lo | grep -o "<.*>"; wget -q -O- http://10.0.2.2:${port}/`],
      'slirp4netns:allow_host_loopback=true');
    const r = await run(pkit, b.dir);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, 'inet 10.0.2.100/24\ndefault via 10.0.2.2 dev tap0 \n<LOOPBACK,UP,LOWER_UP>\nhello from the host\n');
  } finally {
    server.close();
  }
  await noStrays();
});

t('slirp4netns by default: the host\'s loopback is not reachable', async () => {
  const { server, port } = await hostHttp();
  try {
    const b = await netBundle(['sh', '-c', `timeout 5 wget -q -O- http://10.0.2.2:${port}/ || echo blocked`], 'slirp4netns');
    const r = await run(pkit, b.dir);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, 'blocked\n');
  } finally {
    server.close();
  }
  await noStrays();
});

t('pasta: the host\'s routes; with --map-gw the gateway is the host', async () => {
  const { server, port } = await hostHttp();
  try {
    const b = await netBundle(['sh', '-c', `gw=$(ip route | awk '/^default/ {print $3}'); test -n "$gw" && echo "gateway ok"; wget -q -O- http://$gw:${port}/`], 'pasta:--map-gw');
    const r = await run(pkit, b.dir);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, 'gateway ok\nhello from the host\n');
  } finally {
    server.close();
  }
  await noStrays();
});

t('a published port reaches the container (slirp4netns API, pasta -t)', async () => {
  for (const mode of ['slirp4netns', 'pasta']) {
    const b = await netBundle(['sh', '-c', `echo hello from ${mode} | nc -l -p 8080`], mode, ['127.0.0.1::8080']);
    const done = run(pkit, b.dir);
    assert.is(await readPublished(b.ports[0]!.hostPort), `hello from ${mode}`);
    const r = await done;
    assert.is(r.status, 0, r.stderr);
    await noStrays();
  }
});

t('a published range: 2 host ports to 2 container ports', async () => {
  for (const mode of ['slirp4netns', 'pasta']) {
    const b = await netBundle(['sh', '-c', 'echo second | nc -l -p 8081'], mode, ['8080-8081']);
    const done = run(pkit, b.dir);
    assert.is(await readPublished(b.ports[0]!.hostPort + 1), 'second');
    assert.is((await done).status, 0);
    await noStrays();
  }
});

t('a host port that is taken: one line, exit 125, nothing left running or recorded', async () => {
  const hostPort = (await assignHostPorts([parsePublish('80')]))[0]!.hostPort;
  const holder = await listenOn(hostPort);
  try {
    for (const mode of ['slirp4netns', 'pasta']) {
      const b = await netBundle(['true'], mode, [`${hostPort}:80`]);
      const id = nextId('taken');
      const r = verb(['run', '--bundle', b.dir, id]);
      assert.is(r.status, 125);
      assert.is(r.stderr, `pkit-runtime: createRuntime hook failed: ${mode}: cannot publish 0.0.0.0:${hostPort}/tcp: Address already in use\n`);
      assert.not.ok(existsSync(join(stateRoot, id)), 'no state left');
      assert.equal(networkProcesses(), [], 'nothing left running');
    }
  } finally {
    holder.close();
  }
});

t('run --detach: the network lives with the container; kill ends both', async () => {
  const b = await netBundle(['sleep', '60'], 'slirp4netns', ['8080']);
  const id = nextId('net-d');
  const pidFile = join(work, `${id}.pid`);
  const r = verb(['run', '--detach', '--pid-file', pidFile, '--bundle', b.dir, id]);
  assert.is(r.status, 0, r.stderr);
  const pid = readFileSync(pidFile, 'utf8').trim();
  const procs = networkProcesses();
  assert.ok(procs.some((p) => / network-hook slirp4netns /.test(p)), procs.join('\n'));
  assert.ok(procs.some((p) => new RegExp(`slirp4netns .* ${pid} tap0$`).test(p)), procs.join('\n'));
  // the published port is held on the host while the container runs
  const held = await listenOn(b.ports[0]!.hostPort).then((s) => { s.close(); return false; }, () => true);
  assert.ok(held, 'the published port is bound');
  assert.is(verb(['kill', id, 'KILL']).status, 0);
  await noStrays();
  assert.is(verb(['delete', id]).status, 0);
});

t('create, start, delete --force: the network goes with the container', async () => {
  for (const mode of ['slirp4netns', 'pasta']) {
    const b = await netBundle(['sleep', '60'], mode);
    const id = nextId('net-c');
    // create leaves the init waiting: never hand it a pipe spawnSync would wait on
    const [cmd, ...args] = pkit.argv(['create', '--bundle', b.dir, id]);
    const c = spawnSync(cmd!, args, { stdio: 'ignore', timeout: 30_000 });
    assert.is(c.status, 0);
    assert.ok(networkProcesses().length >= 2, 'supervisor and tool');
    assert.is(verb(['start', id]).status, 0);
    assert.is(verb(['delete', '--force', id]).status, 0);
    await noStrays();
  }
});

t('a killed supervisor takes its tool along (parent-death signal)', async () => {
  const b = await netBundle(['sleep', '60'], 'pasta');
  const id = nextId('net-k');
  const r = verb(['run', '--detach', '--bundle', b.dir, id]);
  assert.is(r.status, 0, r.stderr);
  const procs = networkProcesses();
  const sup = procs.find((p) => / network-hook pasta /.test(p));
  const tool = procs.find((p) => /\/pasta .*--foreground/.test(p));
  assert.ok(sup && tool, procs.join('\n'));
  process.kill(Number(sup!.split(':')[0]), 'SIGKILL');
  const toolPid = tool!.split(':')[0]!;
  await until(() => { const st = procStat(toolPid); return !st || st.state === 'Z'; });
  assert.is(verb(['delete', '--force', id]).status, 0);
  await noStrays();
});

// ---- generic OCI hooks (hooks.c) ------------------------------------------------------------

t('prestart then createRuntime: the state on stdin, the hook\'s env, before the process runs', () => {
  const dir = mkdtempSync(join(work, 'hooks-'));
  const out = join(dir, 'out');
  const hook = (name: string) => ({ path: '/bin/sh', args: ['sh', '-c', `{ echo ${name}; echo BEGIN; cat; echo; echo END; env; } >> ${out}`], env: ['HOOK_VAR=x'] });
  const b = bundle({
    args: ['sh', '-c', 'echo process >> /tmp/out'],
    mutate: (c) => {
      c.hooks = { createRuntime: [hook('createRuntime')], prestart: [hook('prestart')] };
      c.annotations = { 'org.example': 'yes' };
      c.mounts.push({ destination: '/tmp', type: 'bind', source: dir, options: ['rbind', 'rw'] });
    },
  });
  const id = nextId('hooks');
  const r = verb(['run', '--bundle', b, id]);
  assert.is(r.status, 0, r.stderr);
  const lines = readFileSync(out, 'utf8').split('\n');
  assert.is(lines[0], 'prestart');
  const state = JSON.parse(lines.slice(lines.indexOf('BEGIN') + 1, lines.indexOf('END')).join('\n'));
  assert.ok(state.pid > 0);
  assert.equal({ ...state, pid: 0 }, { ociVersion: '1.0.2', id, status: 'creating', pid: 0, bundle: b, annotations: { 'org.example': 'yes' } });
  assert.ok(lines.indexOf('createRuntime') > lines.indexOf('END'), 'createRuntime after prestart');
  assert.is(lines.filter((l) => l === 'HOOK_VAR=x').length, 2);
  assert.not.ok(lines.some((l) => l.startsWith('PATH=') || l.startsWith('PKIT_')), 'only the env the hook asks for');
  assert.is(lines.at(-2), 'process', 'the container\'s process runs last');
});

t('a failing hook: its last line, exit 125, the container and its state gone', () => {
  const marker = join(work, nextId('never'));
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ path: '/bin/sh', args: ['sh', '-c', 'echo working; echo "cannot do it" >&2; exit 3'] }, /^pkit-runtime: createRuntime hook failed: cannot do it\n$/],
    [{ path: '/bin/sh', args: ['sh', '-c', 'exit 4'] }, /^pkit-runtime: createRuntime hook \/bin\/sh failed \(exit 4\)\n$/],
    [{ path: '/no/such/hook' }, /^pkit-runtime: createRuntime hook failed: cannot run \/no\/such\/hook: No such file or directory\n$/],
    [{ path: '/bin/sh', args: ['sh', '-c', 'sleep 30 & sleep 30'], timeout: 1 }, /^pkit-runtime: createRuntime hook \/bin\/sh timed out after 1 s\n$/],
  ];
  for (const [h, re] of cases) {
    const b = bundle({ args: ['touch', marker], mutate: (c) => { c.hooks = { createRuntime: [h] }; } });
    const id = nextId('hook-fail');
    const r = verb(['run', '--bundle', b, id]);
    assert.is(r.status, 125);
    assert.match(r.stderr, re);
    assert.not.ok(existsSync(join(stateRoot, id)));
    assert.not.ok(existsSync(marker));
  }
  // the timed-out hook's process group was killed with it
  const sleeps = spawnSync('pgrep', ['-u', String(process.getuid!()), '-f', '^sleep 30$'], { encoding: 'utf8' });
  assert.is(sleeps.status, 1, `pgrep found: ${sleeps.stdout}${sleeps.error ?? ''}`);
});

t('hooks pkit-runtime does not run are refused, not skipped', () => {
  const b = bundle({ args: ['true'], mutate: (c) => { c.hooks = { poststop: [{ path: '/bin/true' }] }; } });
  const r = verb(['run', '--bundle', b, nextId('hook-kind')]);
  assert.is(r.status, 125);
  assert.match(r.stderr, /^pkit-runtime: config: hooks\.poststop is not supported by pkit-runtime \(prestart and createRuntime are\): run this bundle with crun\n$/);
  const rel = bundle({ args: ['true'], mutate: (c) => { c.hooks = { createRuntime: [{ path: 'bin/true' }] }; } });
  assert.match(verb(['run', '--bundle', rel, nextId('hook-rel')]).stderr, /config: hooks\.createRuntime: path bin\/true must be absolute/);
});

t.run();
