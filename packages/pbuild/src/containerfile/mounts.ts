// `RUN --mount=type=...,key=value,...`: the CSV option list as a typed object, with buildkit's
// rules (defaults, which option goes with which type). Values may use variables; the parser
// calls parseMount without an expander (values with `$` are then kept raw and not checked) and
// expandInstruction calls it again with the stage's variables.
import { suggest } from './errors.ts';
import { parseBool, parseSize, ValueError } from './values.ts';

export type MountType = 'bind' | 'cache' | 'tmpfs' | 'secret' | 'ssh';
export type MountSharing = 'shared' | 'private' | 'locked';

export interface RunMount {
  type: MountType;
  /** mount path; relative paths are under the working directory */
  target?: string;
  /** path inside `from` (bind, cache) or the secret's source */
  source?: string;
  /** stage, image or context name (bind, cache) */
  from?: string;
  readonly: boolean;
  /** cache id, secret id or ssh id */
  id?: string;
  sharing?: MountSharing;
  /** secret/ssh: fail when it is not provided */
  required?: boolean;
  /** tmpfs size in bytes */
  size?: number;
  /** file mode (cache, secret, ssh) */
  mode?: number;
  uid?: number;
  gid?: number;
  /** secret: also (or instead) expose it as this environment variable */
  env?: string;
}

const TYPES: readonly MountType[] = ['bind', 'cache', 'tmpfs', 'secret', 'ssh'];
const SHARING: readonly MountSharing[] = ['shared', 'private', 'locked'];
const KEYS = ['type', 'from', 'source', 'src', 'target', 'dst', 'destination', 'readonly', 'ro', 'readwrite', 'rw', 'id', 'sharing', 'required', 'size', 'mode', 'uid', 'gid', 'env'];

/** CSV fields as Go's encoding/csv reads one record: `"a,b"` is one field, `""` a quote. */
export function csvFields(spec: string): string[] {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (spec[i] === '"') {
      i++;
      for (;;) {
        if (i >= spec.length) throw new ValueError(`unterminated quote in "${spec}"`);
        if (spec[i] === '"') {
          if (spec[i + 1] === '"') {
            field += '"';
            i += 2;
            continue;
          }
          i++;
          break;
        }
        field += spec[i++];
      }
      if (i < spec.length && spec[i] !== ',') throw new ValueError(`unexpected character after a quoted field in "${spec}"`);
    } else {
      while (i < spec.length && spec[i] !== ',') {
        if (spec[i] === '"') throw new ValueError(`bare quote in an unquoted field in "${spec}"`);
        field += spec[i++];
      }
    }
    fields.push(field);
    if (i >= spec.length) return fields;
    i++; // the comma
  }
}

function uint(value: string, base: 8 | 10, key: string): number {
  const ok = base === 8 ? /^[0-7]+$/.test(value) : /^\d+$/.test(value);
  const n = ok ? Number.parseInt(value, base) : NaN;
  if (!ok || n > 0xffffffff) throw new ValueError(`invalid value ${value} for ${key}`);
  return n;
}

/**
 * One --mount value. `expandValue` replaces variables in option values; without it, values
 * containing `$` are kept as written and not checked (they are checked after expansion).
 */
export function parseMount(spec: string, expandValue?: (value: string) => string): RunMount {
  const m: RunMount = { type: 'bind', readonly: true };
  let roAuto = true;
  let deferred = false;
  for (const field of csvFields(spec)) {
    const eq = field.indexOf('=');
    const key = (eq < 0 ? field : field.slice(0, eq)).toLowerCase();
    if (eq < 0) {
      if (key === 'readonly' || key === 'ro' || key === 'readwrite' || key === 'rw') {
        m.readonly = key === 'readonly' || key === 'ro';
        roAuto = false;
      } else if (key === 'required' && (m.type === 'secret' || m.type === 'ssh')) {
        m.required = true;
      } else if (key === 'required') {
        throw new ValueError(`unexpected key 'required' for mount type '${m.type}'`);
      } else {
        throw new ValueError(`invalid field '${field}' must be a key=value pair`);
      }
      continue;
    }
    let value = field.slice(eq + 1);
    if (key === 'from' && /\$[{\w]/.test(value)) {
      throw new ValueError("'from' doesn't support variable expansion, define an alias stage instead");
    }
    if (expandValue) value = expandValue(value);
    else if (value.includes('$') && !['from', 'source', 'src', 'target', 'dst', 'destination', 'id', 'env'].includes(key)) {
      if (!KEYS.includes(key)) throw new ValueError(`unexpected key '${key}' in '${field}'${hint(key)}`);
      deferred = true;
      continue;
    }
    switch (key) {
      case 'type': {
        const t = value.toLowerCase() as MountType;
        if (!TYPES.includes(t)) throw new ValueError(`unsupported mount type "${value}" (expected ${TYPES.join(', ')})`);
        m.type = t;
        break;
      }
      case 'from':
        m.from = value;
        break;
      case 'source':
      case 'src':
        m.source = value;
        break;
      case 'target':
      case 'dst':
      case 'destination':
        m.target = value;
        break;
      case 'readonly':
      case 'ro':
      case 'readwrite':
      case 'rw': {
        const b = parseBool(value);
        if (b === undefined) throw new ValueError(`invalid value for ${key}: ${value}`);
        m.readonly = key === 'readonly' || key === 'ro' ? b : !b;
        roAuto = false;
        break;
      }
      case 'required': {
        if (m.type !== 'secret' && m.type !== 'ssh') throw new ValueError(`unexpected key 'required' for mount type '${m.type}'`);
        const b = parseBool(value);
        if (b === undefined) throw new ValueError(`invalid value for required: ${value}`);
        m.required = b;
        break;
      }
      case 'size':
        if (m.type !== 'tmpfs') throw new ValueError(`unexpected key 'size' for mount type '${m.type}'`);
        m.size = parseSize(value);
        break;
      case 'id':
        m.id = value;
        break;
      case 'sharing': {
        const s = value.toLowerCase() as MountSharing;
        if (!SHARING.includes(s)) throw new ValueError(`unsupported sharing value "${value}" (expected shared, private or locked)`);
        m.sharing = s;
        break;
      }
      case 'mode':
        m.mode = uint(value, 8, 'mode');
        break;
      case 'uid':
        m.uid = uint(value, 10, 'uid');
        break;
      case 'gid':
        m.gid = uint(value, 10, 'gid');
        break;
      case 'env':
        m.env = value;
        break;
      default:
        throw new ValueError(`unexpected key '${key}' in '${field}'${hint(key)}`);
    }
  }
  if (roAuto) m.readonly = !(m.type === 'cache' || m.type === 'tmpfs');
  if (deferred) return m;
  if (m.type !== 'secret' && m.type !== 'ssh' && m.type !== 'cache') {
    for (const k of ['mode', 'uid', 'gid'] as const) {
      if (m[k] !== undefined) throw new ValueError(`${k} not allowed for "${m.type}" type mounts`);
    }
  }
  if (m.type === 'secret') {
    if (m.from !== undefined) throw new ValueError('secret mount should not have a from');
    if (m.sharing !== undefined) throw new ValueError('secret mount should not define sharing');
    if (!m.source && !m.target && !m.id) throw new ValueError('invalid secret mount: one of id, source or target is required');
    if (m.source && m.id) throw new ValueError("a secret mount can't have both source and id");
  }
  if (m.sharing !== undefined && m.type !== 'cache') throw new ValueError(`invalid cache sharing set for ${m.type} mount`);
  return m;
}

function hint(value: string, options: readonly string[] = KEYS): string {
  const s = suggest(value, options);
  return s === undefined ? '' : ` (did you mean ${s}?)`;
}
