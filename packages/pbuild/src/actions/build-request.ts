// What the command line asks of `pbuild build`: the request, and reading its inputs (the
// Containerfile, --build-arg and --build-arg-file, --timestamp/SOURCE_DATE_EPOCH, the target
// platform, the changes --label and --env make to the image).
import { existsSync, readFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { badInput as bad, ExitStatusError } from '@pkit/storage/errors';
import { hostPlatform, parsePlatform, parseTrigger, type Instruction, type NetworkMode, type Platform } from '../containerfile/index.ts';
import type { ConfigChange } from './config.ts';
import type { ImageFormat } from './image-write.ts';

export interface BuildRequest {
  root: string | undefined;
  context: string;
  file?: string;
  tags: string[];
  buildArgs: string[];
  labels: string[];
  quiet: boolean;
  noCache: boolean;
  target?: string;
  iidfile?: string;
  pull?: string;
  tlsVerify?: boolean;
  /** --format: oci (default, as buildah) or docker */
  format?: ImageFormat;
  /** --annotation KEY=VALUE on the manifest */
  annotations?: string[];
  /** --timestamp or SOURCE_DATE_EPOCH: seconds since the epoch for created times and file mtimes */
  timestamp?: number;
  /** --layers=false: no step is taken from the cache or recorded in it */
  layers?: boolean;
  /** --squash: the last stage's steps become one layer */
  squash?: boolean;
  /** --from: the first stage's base instead of its FROM's */
  from?: string;
  /** --env KEY=VALUE: set in the built image's config */
  env?: string[];
  /** --ignorefile: instead of the context's .containerignore/.dockerignore */
  ignoreFile?: string;
  /** -o/--output: export the image's files too (build-output.ts) */
  output?: string;
  /** the target platform: --platform, or --os/--arch/--variant */
  platform?: string;
  os?: string;
  arch?: string;
  variant?: string;
  /** --secret id=ID,src=FILE|env=VAR */
  secrets?: string[];
  /** --network: RUN's network unless its own --network says (default: slirp4netns, as podman build) */
  network?: NetworkMode;
  /** for pulling base images */
  creds?: string;
  authfile?: string;
}

/** A RUN step failed: pbuild exits with the command's status, as podman build does. */
export class BuildRunError extends ExitStatusError {
  constructor(message: string, exitCode: number) {
    super(message, exitCode, 'PKIT_BUILD_RUN');
  }
}


/**
 * The Containerfile's text, the name errors use and its path: -f FILE (relative to the current
 * directory, else to the context, as buildah), -f - (stdin), else CONTEXT's Containerfile or
 * Dockerfile.
 */
export function readContainerfile(contextDir: string, file: string | undefined): { text: string; name: string; path?: string } {
  if (file === '-') return { text: readFileSync(0, 'utf8'), name: 'stdin' };
  const path =
    file !== undefined
      ? [resolve(file), resolve(contextDir, file)].find((p) => existsSync(p)) ?? resolve(file)
      : ['Containerfile', 'Dockerfile'].map((n) => join(contextDir, n)).find((p) => existsSync(p));
  if (path === undefined) throw bad(`no Containerfile or Dockerfile in ${contextDir}: give one with -f FILE`);
  try {
    return { text: readFileSync(path, 'utf8'), name: basename(path), path };
  } catch (err) {
    throw bad(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
}

/** --build-arg-file: NAME=VALUE lines, blank lines and # comments skipped (buildah's format). */
export function readBuildArgFiles(files: readonly string[]): string[] {
  return files.flatMap((f) => {
    let text: string;
    try {
      text = readFileSync(f, 'utf8');
    } catch (err) {
      throw bad(`--build-arg-file ${f}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    return text.split('\n').map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'));
  });
}

/** --timestamp, else $SOURCE_DATE_EPOCH (reproducible builds' convention), else none. */
export function timestamp(flag: number | undefined): number | undefined {
  if (flag !== undefined) return flag;
  const env = process.env['SOURCE_DATE_EPOCH'];
  if (env === undefined || env === '') return undefined;
  if (!/^\d+$/.test(env)) throw bad(`SOURCE_DATE_EPOCH="${env}": expected seconds since the epoch`);
  return Number(env);
}

/** --build-arg NAME=VALUE; NAME alone takes the value from our environment (podman). */
export function parseBuildArgs(values: string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const v of values) {
    const eq = v.indexOf('=');
    if (eq === 0) throw bad(`--build-arg ${v}: expected NAME=VALUE`);
    if (eq > 0) out.set(v.slice(0, eq), v.slice(eq + 1));
    else if (process.env[v] !== undefined) out.set(v, process.env[v]!);
  }
  return out;
}

/** --platform OS/ARCH[/VARIANT], or --os/--arch/--variant over this machine's: the target. */
export function targetPlatform(req: BuildRequest): Platform {
  if (req.platform !== undefined) return parsePlatform(req.platform);
  const host = hostPlatform();
  const arch = req.arch ?? host.architecture;
  return parsePlatform(`${req.os ?? host.os}/${arch}${req.variant ? `/${req.variant}` : arch === host.architecture && host.variant ? `/${host.variant}` : ''}`);
}

/** What --env changes in the built image's config (--label is a step of its own: labelSteps). */
export function finalChanges(req: BuildRequest): ConfigChange[] {
  return [
    ...(req.env ?? []).map((e) => {
      const { key, value } = keyValue(e);
      // --env NAME alone takes the value from our environment, as podman
      return { kind: 'env' as const, key, value: e.includes('=') ? value : (process.env[key] ?? '') };
    }),
  ];
}

/**
 * --label KEY=VALUE as podman build takes it: one `LABEL "KEY"="VALUE"` step per label at the
 * end of the last stage (printed, numbered and cached as any step). Quotes, backslashes and
 * `$` are escaped, so the value is taken as written.
 */
export function labelSteps(labels: readonly string[]): Instruction[] {
  const quote = (t: string) => `"${t.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
  return labels.map((l) => {
    const { key, value } = keyValue(l);
    return parseTrigger(`LABEL ${quote(key)}=${quote(value)}`, { file: '--label' });
  });
}

export function keyValue(kv: string): { key: string; value: string } {
  const eq = kv.indexOf('=');
  return { key: eq < 0 ? kv : kv.slice(0, eq), value: eq < 0 ? '' : kv.slice(eq + 1) };
}

export function keyValues(list: readonly string[]): Record<string, string> | undefined {
  if (!list.length) return undefined;
  return Object.fromEntries(list.map((kv) => { const { key, value } = keyValue(kv); return [key, value]; }));
}
