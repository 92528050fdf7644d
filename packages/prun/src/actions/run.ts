// The work of `prun run`, loaded only when that command runs: create the container from the
// stored image (@pkit/runtime createContainer), run it in the foreground with pkit-runtime,
// and return the exit code podman would give.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Store, StoreError } from '@pkit/storage';
import { createContainer, removeContainer, runtimeBinary, startContainer, type RunOptions } from '@pkit/runtime';

export interface RunRequest {
  root: string | undefined;
  image: string;
  command: string[];
  rm: boolean;
  interactive: boolean;
  name?: string;
  env: string[];
  workdir?: string;
  entrypoint?: string;
  hostname?: string;
  network?: string;
}

// The helper built in this repository. The same depth from src/actions/ and from the bundle's
// dist/chunks/, where @pkit/runtime's own HELPER_PATH (relative to its source) does not hold.
const HELPER = fileURLToPath(new URL('../../../../native/build/Release/pkit-runtime', import.meta.url));

/** `-e KEY=VALUE`; `-e KEY` takes KEY from our environment, and is dropped when unset (podman). */
export function envEntries(values: string[], env: NodeJS.ProcessEnv = process.env): string[] {
  const out: string[] = [];
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq === 0) throw new StoreError(`invalid environment variable "${v}": expected KEY=VALUE or KEY`, 'PKIT_BAD_INPUT');
    if (eq > 0) out.push(v);
    else if (env[v] !== undefined) out.push(`${v}=${env[v]}`);
  }
  return out;
}

/** `--entrypoint X`: a JSON array, else one word; "" runs no entrypoint (podman). */
export function parseEntrypoint(value: string): string[] {
  if (value.trimStart().startsWith('[')) {
    let parsed: unknown;
    try {
      parsed = JSON.parse(value);
    } catch {
      parsed = undefined;
    }
    if (!Array.isArray(parsed) || !parsed.every((s) => typeof s === 'string')) {
      throw new StoreError(`--entrypoint ${value}: expected a command or a JSON array of strings`, 'PKIT_BAD_INPUT');
    }
    return parsed as string[];
  }
  return [value];
}

/**
 * The runtime's own error (one "pkit-runtime: ..." line, before the container's command ran)
 * is held back from the start of stderr; when the run ends with 125/126/127 it is printed as
 * prun's "Error: ..." line, otherwise as it came. Everything else passes through unchanged.
 */
class StderrFilter {
  private static readonly PREFIX = 'pkit-runtime: ';
  private mode: 'sniff' | 'pass' = 'sniff';
  private pending = Buffer.alloc(0);
  private held: string | undefined;

  write(chunk: Buffer): void {
    if (this.mode === 'pass') {
      process.stderr.write(chunk);
      return;
    }
    this.pending = Buffer.concat([this.pending, chunk]);
    const text = this.pending.toString('latin1');
    const p = StderrFilter.PREFIX;
    if (text.length < p.length ? !p.startsWith(text) : !text.startsWith(p)) {
      this.flushPending();
      return;
    }
    const nl = this.pending.indexOf(0x0a);
    if (nl === -1) return;
    this.held = this.pending.subarray(0, nl).toString('utf8');
    const rest = this.pending.subarray(nl + 1);
    this.pending = Buffer.alloc(0);
    this.mode = 'pass';
    if (rest.length) process.stderr.write(rest);
  }

  private flushPending(): void {
    this.mode = 'pass';
    if (this.pending.length) process.stderr.write(this.pending);
    this.pending = Buffer.alloc(0);
  }

  end(exitCode: number): void {
    if (this.held !== undefined) {
      if (exitCode >= 125 && exitCode <= 127) process.stderr.write(`Error: ${this.held.slice(StderrFilter.PREFIX.length)}\n`);
      else process.stderr.write(`${this.held}\n`);
      this.held = undefined;
    }
    this.flushPending();
  }
}

/** Runs the container in the foreground; resolves to the exit code for prun. */
export async function runAction(req: RunRequest): Promise<number> {
  if (req.network !== undefined && req.network !== 'none' && req.network !== 'host') {
    throw new StoreError(`--network ${req.network}: only "none" and "host" are supported so far`, 'PKIT_BAD_INPUT');
  }
  const runtime = runtimeBinary({ helperPath: HELPER });
  if (runtime.kind !== 'pkit-runtime') {
    throw new StoreError(`prun run needs pkit-runtime (the overlay root is its convention), found ${runtime.path}: build it with pnpm install`, 'PKIT_RUNTIME');
  }
  const run: Omit<RunOptions, 'rootfs' | 'idmap'> = {
    ...(req.command.length ? { args: req.command } : {}),
    ...(req.entrypoint !== undefined ? { entrypoint: parseEntrypoint(req.entrypoint) } : {}),
    ...(req.env.length ? { env: envEntries(req.env) } : {}),
    ...(req.workdir !== undefined ? { cwd: req.workdir } : {}),
    ...(req.hostname !== undefined ? { hostname: req.hostname } : {}),
    network: (req.network ?? 'none') as 'none' | 'host',
  };
  const store = Store.open({ root: req.root });
  try {
    let created;
    try {
      created = await createContainer(store, { image: req.image, ...(req.name !== undefined ? { name: req.name } : {}), run });
    } catch (err) {
      // buildSpec's option errors are the user's: report them as such, not as a bug.
      if (err instanceof Error && !(err instanceof StoreError) && !('code' in err)) throw new StoreError(err.message, 'PKIT_BAD_INPUT');
      throw err;
    }
    for (const w of created.idmap.warnings) process.stderr.write(`${w}\n`);
    const { record, dir } = created;
    const stateRoot = join(store.paths.runRoot, 'runtime');
    mkdirSync(stateRoot, { recursive: true, mode: 0o700 });
    let exitCode = 125;
    try {
      await store.containers.update(record.id, { state: 'running' });
      const filter = new StderrFilter();
      const running = startContainer({
        runtime,
        bundle: dir,
        id: record.id,
        root: stateRoot,
        stdio: [req.interactive ? 'inherit' : 'ignore', 'inherit', 'pipe'],
      });
      const stderrDone = new Promise<void>((resolve) => {
        const s = running.child.stderr;
        if (!s) return resolve();
        s.on('data', (c: Buffer) => filter.write(c));
        s.on('end', resolve);
        s.on('error', () => resolve());
      });
      const result = await running.result;
      await stderrDone;
      exitCode = result.exitCode;
      filter.end(exitCode);
      if (result.runtimeError) process.stderr.write(`Error: ${result.runtimeError.split('\n').join(' ')}\n`);
    } finally {
      if (req.rm) {
        await removeContainer(store, record.id, { idmap: created.idmap, helper: HELPER });
      } else {
        const prev = (await store.containers.get(record.id))?.config ?? {};
        await store.containers.update(record.id, { state: 'exited', config: { ...prev, exitCode } });
      }
    }
    return exitCode;
  } finally {
    store.close();
  }
}
