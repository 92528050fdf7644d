// What every step of one `pbuild build` shares, and the working containers its steps run in.
import type { ContainerRecord } from '@pkit/storage/container-store';
import type { Store } from '@pkit/storage/store';
import type { parseContainerfile, Platform, StageArgs } from '../containerfile/index.ts';
import type { PathMatcher } from '../context/ignore.ts';
import { keyValues, type BuildRequest } from './build-request.ts';
import { withWorkingContainer } from './interrupt.ts';
import type { BuildSecret } from './secrets.ts';

export type Containerfile = ReturnType<typeof parseContainerfile>;

/** What every step of one build shares. */
export interface Build {
  req: BuildRequest;
  store: Store;
  cf: Containerfile;
  buildArgs: Map<string, string>;
  contextDir: string;
  /** the context's .containerignore/.dockerignore (or --ignorefile) */
  ignore: PathMatcher;
  /** a private temp dir: heredoc sources are written there */
  scratch: string;
  /** the image each built stage ended with */
  stageImage: Map<number, string>;
  /** the ARG scope each built stage ended with (a stage FROM it inherits it) */
  stageScope: Map<number, StageArgs>;
  say: (line: string) => void;
  /** the stage being built: podman's "[i/n] " before its lines when the build has several */
  prefix: string;
  /** the step being run in the stage, and the stage's steps (FROM, ONBUILD triggers, instructions) */
  step: number;
  total: number;
  /** how many stages the build runs */
  stages: number;
  /** the stage's base, as buildah names it in the manifest (FROM an image only) */
  baseAnnotations: Record<string, string>;
  /** --platform (default: this machine's) */
  target: Platform;
  /** --secret: what RUN --mount=type=secret can mount (never part of a cache key) */
  secrets: Map<string, BuildSecret>;
}

/** A working container on `image` for `fn`, removed afterwards (also when the build is interrupted). */
export function withWorking<T>(b: Build, image: string, fn: (rec: ContainerRecord) => Promise<T>): Promise<T> {
  return withWorkingContainer(b.store, image, fn);
}

/** podman build's line for the next step of the stage: `[i/n] STEP j/m: INSTRUCTION`. */
export function sayStep(b: Build, source: string): void {
  b.say(`${b.prefix}STEP ${++b.step}/${b.total}: ${source}`);
}

/** podman build's line before the build's image is committed: `[n/n] COMMIT NAME`. */
export function sayCommit(b: Build): void {
  b.say(`${b.prefix}COMMIT ${b.req.tags[0] ?? ''}`.trimEnd());
}

/** The manifest annotations of a step's image: the stage's base, and --annotation on the last. */
export function stepAnnotations(b: Build, final: boolean): Record<string, string> | undefined {
  const out = { ...b.baseAnnotations, ...(final ? keyValues(b.req.annotations ?? []) : {}) };
  return Object.keys(out).length ? out : undefined;
}
