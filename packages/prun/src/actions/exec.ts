// `prun exec`: a process in a running container, through `pkit-runtime exec --process`, with
// the container's own process settings (user, capabilities, env) as the defaults.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { constants } from 'node:os';
import { randomBytes } from 'node:crypto';
import { StoreError } from '@pkit/storage/errors';
import { Store } from '@pkit/storage/store';
import { readContainerSpec } from '@pkit/runtime/bundle';
import { type Spec } from '@pkit/runtime/oci-spec';
import { globalArgs } from '@pkit/runtime/run';
import { mergeEnv } from '@pkit/runtime/spec';
import { envEntries, envFileEntries } from './container-request.ts';
import { engine, findContainer, isRunning, type Engine } from './containers.ts';
import { StderrFilter } from './stderr-filter.ts';
import { resolveUser } from './users.ts';

export interface ExecRequest {
  root: string | undefined;
  container: string;
  command: string[];
  interactive: boolean;
  tty: boolean;
  detach: boolean;
  env: string[];
  envFiles: string[];
  workdir?: string;
  user?: string;
}

/** podman gives 255 for exec in a container that is not running. */
const EXIT_NOT_RUNNING = 255;

type Process = NonNullable<Spec['process']>;

async function execProcess(e: Engine, id: string, req: ExecRequest): Promise<Process> {
  const spec = readContainerSpec(e.store, id);
  const p: Process = { ...spec.process! };
  p.args = req.command;
  p.terminal = req.tty;
  const extra = [...req.envFiles.flatMap((f) => envFileEntries(f)), ...envEntries(req.env)];
  p.env = mergeEnv(p.env ?? [], req.tty ? ['TERM=xterm'] : [], extra);
  if (req.workdir !== undefined) p.cwd = req.workdir;
  if (req.user !== undefined) p.user = await resolveUser(e, id, req.user);
  return p;
}

export async function execAction(req: ExecRequest): Promise<number> {
  const store = Store.open({ root: req.root });
  let tmp: string | undefined;
  try {
    const e = engine(store);
    const rec = await findContainer(e, req.container);
    if (!isRunning(rec)) {
      process.stderr.write('Error: can only create exec sessions on running containers: container state improper\n');
      return EXIT_NOT_RUNNING;
    }
    const proc = await execProcess(e, rec.id, req);
    tmp = mkdtempSync(join(tmpdir(), 'pkit-exec-'));
    const processFile = join(tmp, 'process.json');
    writeFileSync(processFile, JSON.stringify(proc));
    const args = [...globalArgs({ runtime: e.runtime, root: e.stateRoot }), 'exec', '--process', processFile, ...(req.detach ? ['--detach'] : []), rec.id];
    const filter = new StderrFilter();
    // Detached, the process must not hold our stdout: it would keep a pipeline reading us open.
    const child = spawn(e.runtime.path, args, {
      stdio: req.detach ? ['ignore', 'ignore', 'pipe'] : [req.interactive || req.tty ? 'inherit' : 'ignore', 'inherit', req.tty ? 'inherit' : 'pipe'],
    });
    const forward = (sig: NodeJS.Signals) => () => child.kill(sig);
    const handlers = (['SIGINT', 'SIGTERM', 'SIGHUP'] as const).map((s) => [s, forward(s)] as const);
    for (const [s, h] of handlers) process.on(s, h);
    child.stderr?.on('data', (c: Buffer) => filter.write(c));
    const code = await new Promise<number>((resolve) => {
      child.on('error', (err) => {
        process.stderr.write(`Error: cannot start ${e.runtime.path}: ${err.message}\n`);
        resolve(125);
      });
      // Detached, the process keeps the stderr pipe: the runtime's exit is the end.
      const done = (c: number | null, sig: NodeJS.Signals | null) => resolve(c ?? 128 + (sig ? constants.signals[sig] : 0));
      if (req.detach) child.on('exit', done);
      else child.on('close', done);
    });
    if (req.detach) {
      child.stderr?.destroy();
      // podman prints the exec session's ID; pkit keeps no exec sessions, so this one is fresh.
      if (code === 0) process.stdout.write(`${randomBytes(32).toString('hex')}\n`);
    }
    for (const [s, h] of handlers) process.off(s, h);
    filter.end(code);
    return code;
  } catch (err) {
    if (err instanceof Error && !(err instanceof StoreError) && !('code' in err)) throw new StoreError(err.message, 'PKIT_BAD_INPUT');
    throw err;
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
    store.close();
  }
}
