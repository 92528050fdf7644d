// create / start / state / kill / delete and exec, for pkit-runtime and crun alike.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bundle, nextId, runtimes, until, work, type Runtime } from './bundle.ts';

function lifecycle(rt: Runtime) {
  const t = suite(`lifecycle: ${rt.name}`);
  // Detached verbs: the container inherits our stdio, so never hand it a pipe we wait on.
  // spawnSync would wait for the container to close our pipes: use files.
  const verb = (args: string[]) => {
    const [cmd, ...rest] = rt.argv(args);
    const base = join(work, nextId('out'));
    const out = openSync(`${base}.out`, 'w+'), err = openSync(`${base}.err`, 'w+');
    const r = spawnSync(cmd!, rest, { stdio: ['ignore', out, err], timeout: 30_000 });
    closeSync(out); closeSync(err);
    return { status: r.status, stdout: readFileSync(`${base}.out`, 'utf8'), stderr: readFileSync(`${base}.err`, 'utf8') };
  };
  const state = (id: string) => {
    const r = verb(['state', id]);
    assert.is(r.status, 0, r.stderr);
    return JSON.parse(r.stdout) as { id: string; status: string; pid: number; bundle: string };
  };
  const created = (args: string[]) => {
    const b = bundle({ args });
    const id = nextId();
    const r = verb(['create', '--bundle', b, id]);
    assert.is(r.status, 0, r.stderr);
    return { b, id };
  };

  t('create -> created, start -> running, kill -> stopped, delete -> gone', async () => {
    const marker = join(work, `${nextId('marker')}`);
    const { b, id } = created(['sh', '-c', `echo up > /dev/null; sleep 60`]);
    let s = state(id);
    assert.is(s.status, 'created');
    assert.is(s.id, id);
    assert.is(s.bundle, b);
    assert.ok(s.pid > 0);
    // created: the process exists but has not run the command yet
    assert.match(readFileSync(`/proc/${s.pid}/cmdline`, 'utf8'), rt.name === 'crun' ? /./ : /pkit-runtime/);
    let r = verb(['start', id]);
    assert.is(r.status, 0, r.stderr);
    s = state(id);
    assert.is(s.status, 'running');
    await until(() => readFileSync(`/proc/${s.pid}/cmdline`, 'utf8').startsWith('sleep'));
    r = verb(['kill', id, 'KILL']);
    assert.is(r.status, 0, r.stderr);
    await until(() => state(id).status === 'stopped');
    r = verb(['delete', id]);
    assert.is(r.status, 0, r.stderr);
    r = verb(['state', id]);
    assert.is.not(r.status, 0);
    assert.not.ok(existsSync(marker));
  });

  t('kill with a signal name, default TERM reaches a trap', async () => {
    // A signal from outside reaches a pid-namespace init only once it has a handler: until the
    // shell has run `trap`, it is dropped. So kill again until the trap has fired.
    const killUntilStopped = async (id: string, args: string[]) => {
      const end = Date.now() + 10_000;
      for (;;) {
        const r = verb(['kill', id, ...args]);
        if (state(id).status === 'stopped') return;
        assert.is(r.status, 0, r.stderr);
        assert.ok(Date.now() < end, 'the container never stopped');
        await until(() => state(id).status === 'stopped', 300).catch(() => {});
        if (state(id).status === 'stopped') return;
      }
    };
    const { id } = created(['sh', '-c', 'trap "exit 0" TERM USR1; while :; do sleep 0.05; done']);
    assert.is(verb(['start', id]).status, 0);
    await killUntilStopped(id, ['SIGUSR1']);
    assert.is(verb(['delete', id]).status, 0);
    const c2 = created(['sh', '-c', 'trap "exit 0" TERM; while :; do sleep 0.05; done']);
    assert.is(verb(['start', c2.id]).status, 0);
    await killUntilStopped(c2.id, []);
    assert.is(verb(['delete', c2.id]).status, 0);
  });

  t('delete refuses a running container, --force kills it', async () => {
    const { id } = created(['sleep', '60']);
    assert.is(verb(['start', id]).status, 0);
    let r = verb(['delete', id]);
    assert.is.not(r.status, 0);
    assert.is(state(id).status, 'running');
    r = verb(['delete', '--force', id]);
    assert.is(r.status, 0, r.stderr);
    assert.is.not(verb(['state', id]).status, 0);
  });

  t('delete of a created (never started) container', () => {
    const { id } = created(['sleep', '60']);
    const pid = state(id).pid;
    const r = verb(['delete', '--force', id]);
    assert.is(r.status, 0, r.stderr);
    assert.not.ok(existsSync(`/proc/${pid}/cmdline`) && readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('sleep'));
  });

  t('a second container with the same id is refused', () => {
    const { b, id } = created(['sleep', '60']);
    const r = verb(['create', '--bundle', b, id]);
    assert.is.not(r.status, 0);
    assert.match(r.stderr, /exist/);
    assert.is(verb(['delete', '--force', id]).status, 0);
  });

  t('exec: joins the namespaces, is not pid 1, exits with its code', () => {
    const { id } = created(['sleep', '60']);
    assert.is(verb(['start', id]).status, 0);
    const r = verb(['exec', id, 'sh', '-c', 'echo $$; hostname; cat /proc/self/uid_map; readlink /proc/1/exe; ls /proc/self/fd | tr "\\n" " "; exit 5']);
    assert.is(r.status, 5, r.stderr);
    const lines = r.stdout.split('\n');
    assert.is.not(lines[0], '1');
    assert.is(lines[1], 'pkit-box');
    assert.is(lines[2]!.trim().split(/\s+/).join(' '), `0 ${process.getuid!()} 1`);
    assert.is(lines[3], '/bin/busybox');
    assert.is(lines[4]!.trim(), '0 1 2 3');
    assert.is(verb(['delete', '--force', id]).status, 0);
  });

  t('exec --process process.json: user, env, cwd, capabilities', () => {
    const { id } = created(['sleep', '60']);
    assert.is(verb(['start', id]).status, 0);
    const pj = join(work, `${nextId('process')}.json`);
    writeFileSync(pj, JSON.stringify({
      terminal: false, user: { uid: 0, gid: 0 }, args: ['sh', '-c', 'echo $X; pwd; grep -E "^(CapEff|NoNewPrivs)" /proc/self/status'],
      env: ['PATH=/bin:/usr/bin', 'X=from-process-json'], cwd: '/tmp',
      capabilities: { bounding: ['CAP_KILL'], effective: ['CAP_KILL'], permitted: ['CAP_KILL'], inheritable: [], ambient: [] },
      noNewPrivileges: true,
    }));
    const r = verb(['exec', '--process', pj, id]);
    assert.is(r.status, 0, r.stderr);
    assert.is(r.stdout, 'from-process-json\n/tmp\nCapEff:\t0000000000000020\nNoNewPrivs:\t1\n');
    assert.is(verb(['delete', '--force', id]).status, 0);
  });

  return t;
}

for (const rt of runtimes()) {
  if (!rt.available) { console.error(`runtime-helper: ${rt.name} not installed, its comparison is skipped`); continue; }
  lifecycle(rt).run();
}
