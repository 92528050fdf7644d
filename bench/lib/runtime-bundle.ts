// Bundles and runtime command lines for bench/runtime.ts. The bundle is the one the runtime
// helper tests assert for both runtimes (test/unit/runtime-helper/bundle.ts: `crun spec
// --rootless` adjusted, shared read-only busybox rootfs, no linux.resources), so the
// benchmark times exactly the configuration the tests prove equivalent.
// Importing this module creates a temp dir (removed at exit): import it as the user who runs
// the containers, never as root before dropping to that user.
import { spawnSync } from 'node:child_process';
import { accessSync, constants, existsSync, mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { bundle, REPO, subRange, work } from '../../test/unit/runtime-helper/bundle.ts';

export { work };

export interface Variant {
  name: string;
  note: string;
  bundle: string;
}

/** One bundle per variant, all running `true`:
 *  - multi-range: 0 -> this user, 1..N -> the /etc/sub{u,g}id range (newuidmap/newgidmap,
 *    as podman maps a rootless container);
 *  - single: 0 -> this user only (written directly, no setuid helper);
 *  - multi-range+seccomp: as multi-range plus podman's default seccomp profile. */
export function variants(withSeccomp: boolean): Variant[] {
  const out: Variant[] = [];
  const sub = subRange('/etc/subuid'), subg = subRange('/etc/subgid');
  if (sub && subg) {
    out.push({ name: 'multi-range', note: `0->${process.getuid!()}, 1..${sub.count}->${sub.start}.. via newuidmap/newgidmap`, bundle: bundle({ args: ['true'], multiRange: true }) });
  }
  out.push({ name: 'single', note: `0->${process.getuid!()} only, maps written directly`, bundle: bundle({ args: ['true'] }) });
  if (withSeccomp && sub && subg && existsSync('/usr/share/containers/seccomp.json')) {
    out.push({ name: 'multi+seccomp', note: 'multi-range + /usr/share/containers/seccomp.json', bundle: bundle({ args: ['true'], multiRange: true, seccomp: true }) });
  }
  return out;
}

export interface Runtime {
  name: string;
  /** the state root given with --root */
  root: string;
  argv(verb: string[]): string[];
}

export const DEFAULT_HELPER = join(REPO, 'native/build/Release/pkit-runtime');

/** True when a source in native/helper is newer than the built helper. */
export function helperStale(helper: string): boolean {
  const dir = join(REPO, 'native/helper');
  if (!existsSync(dir)) return false;
  const built = statSync(helper).mtimeMs;
  return readdirSync(dir).some((f) => statSync(join(dir, f)).mtimeMs > built);
}

/** Where the state roots go: under $XDG_RUNTIME_DIR as in real use (runc, crun and prun keep
 * state there), else in the temp dir; removed at exit. */
export function stateBase(): string {
  const xdg = process.env.XDG_RUNTIME_DIR;
  let base = work;
  if (xdg) {
    try {
      accessSync(xdg, constants.W_OK);
      base = mkdtempSync(join(xdg, 'pkit-bench-'));
      process.on('exit', () => rmSync(base, { recursive: true, force: true }));
    } catch { /* not writable: the temp dir */ }
  }
  return base;
}

/** The filesystem type under path (tmpfs, ext4, ...): fsync and rename cost depend on it. */
export function fsType(path: string): string {
  const r = spawnSync('stat', ['-f', '-c', '%T', path], { encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : 'unknown';
}

export function runtimes(helper: string, base: string): Runtime[] {
  const r = (name: string) => join(base, `state-${name}`);
  return [
    { name: 'pkit-runtime', root: r('pkit'), argv: (v) => [helper, '--root', r('pkit'), ...v] },
    // cgroups disabled: this host's hybrid v1/v2 layout, and the bundle asks for no resources
    // (pkit-runtime does not touch cgroups then either).
    { name: 'crun', root: r('crun'), argv: (v) => ['crun', '--root', r('crun'), '--cgroup-manager=disabled', ...v] },
    // --rootless=true: ignore cgroup permission errors (runc still tries the v1 hierarchies).
    { name: 'runc', root: r('runc'), argv: (v) => ['runc', '--root', r('runc'), '--rootless=true', ...v] },
  ];
}

/** Runs once; undefined when it worked, else why not. */
export function probe(rt: Runtime, b: string, id: string): string | undefined {
  const [cmd, ...args] = rt.argv(['run', '--bundle', b, id]);
  const r = spawnSync(cmd!, args, { stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8', timeout: 30_000 });
  if (r.error) return r.error.message;
  if (r.status !== 0) return `exit ${r.status ?? r.signal}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`;
  return undefined;
}

/** Container ids still present under a state root (a run that did not clean up). */
export function leftovers(rt: Runtime): string[] {
  if (!existsSync(rt.root)) return [];
  return readdirSync(rt.root).filter((f) => !f.startsWith('.') && statSync(join(rt.root, f)).isDirectory());
}
