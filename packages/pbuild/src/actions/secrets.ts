// The build's secrets: `--secret id=ID,src=FILE|env=VAR[,type=file|env]` (podman build's flag,
// also pbuild run's). A RUN sees one through `--mount=type=secret,id=ID` (run-mounts.ts): a copy
// in a private temp file, bound read-only for that command only; the value never reaches the
// layer, the image config or the history.
//
// buildah 1.28's rules: `id` is required; `src` defaults to the id; `env=VAR` means type env
// with VAR as the source; a file source is made absolute and must exist now; unknown keys are
// ignored. Without a type, buildah takes "env" whenever a variable named like the id exists,
// even with an explicit `src=FILE`, which then silently gives an empty secret; here an explicit
// `src` stays a file unless `type=env` says otherwise.
import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { badInput as bad } from '@pkit/storage/errors';

export interface BuildSecret {
  id: string;
  type: 'file' | 'env';
  /** An absolute file path, or an environment variable's name. */
  source: string;
}

const SYNTAX = 'incorrect secret flag format: should be --secret id=foo,src=bar[,env=ENV,type=file|env]';


/** One --secret value; `env` decides the default type, `cwd` is where a relative src starts. */
export function parseSecret(value: string, env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): BuildSecret {
  let id = '';
  let src = '';
  let type: BuildSecret['type'] | undefined;
  for (const field of value.split(',')) {
    const eq = field.indexOf('=');
    if (eq < 0) throw bad(`--secret ${value}: "${field}" is not KEY=VALUE (${SYNTAX})`);
    const key = field.slice(0, eq);
    const v = field.slice(eq + 1);
    switch (key) {
      case 'id':
        id = v;
        break;
      case 'src':
      case 'source':
        src = v;
        break;
      case 'env':
        src = v;
        type = 'env';
        break;
      case 'type':
        if (v !== 'file' && v !== 'env') throw bad(`--secret ${value}: invalid secret type, must be file or env`);
        type = v;
        break;
      default:
        break; // buildah ignores other keys
    }
  }
  if (id === '') throw bad(`--secret ${value}: ${SYNTAX}`);
  if (type === undefined) type = src === '' && env[id] !== undefined ? 'env' : 'file';
  if (src === '') src = id;
  if (type === 'env') return { id, type, source: src };
  const path = resolve(cwd, src);
  let isFile = false;
  try {
    isFile = statSync(path).isFile();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw bad(`--secret ${value}: cannot read ${path}: ${code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  if (!isFile) throw bad(`--secret ${value}: ${path} is not a regular file`);
  return { id, type, source: path };
}

/** Every --secret value by id (a later one with the same id wins, as buildah's map does). */
export function parseSecrets(values: readonly string[], env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): Map<string, BuildSecret> {
  const out = new Map<string, BuildSecret>();
  for (const v of values) {
    const s = parseSecret(v, env, cwd);
    out.set(s.id, s);
  }
  return out;
}
