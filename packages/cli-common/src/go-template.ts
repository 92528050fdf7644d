// The part of Go's text/template that `--format` users write in scripts, for podman-style
// `--format '{{.State.Status}}'`, `{{json .Config}}`, `{{index .Labels "k"}}`,
// `{{range .Names}}{{.}} {{end}}`, `{{if .X}}..{{else}}..{{end}}`, `{{len .X}}`,
// `{{join .X ","}}`, `{{upper .X}}`, `{{lower .X}}`, `{{println}}`. Anything else is a one-line
// error naming what is not supported.

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'expr'; expr: string }
  | { kind: 'range'; expr: string; body: Node[]; elseBody: Node[] }
  | { kind: 'if'; expr: string; body: Node[]; elseBody: Node[] }
  | { kind: 'with'; expr: string; body: Node[]; elseBody: Node[] };

export class TemplateError extends Error {
  code = 'PKIT_BAD_TEMPLATE';
}

function tokenize(src: string): Array<{ text?: string; action?: string }> {
  const out: Array<{ text?: string; action?: string }> = [];
  let i = 0;
  while (i < src.length) {
    const open = src.indexOf('{{', i);
    if (open === -1) { out.push({ text: src.slice(i) }); break; }
    let text = src.slice(i, open);
    const close = src.indexOf('}}', open + 2);
    if (close === -1) throw new TemplateError(`template: unclosed action in ${JSON.stringify(src)}`);
    let action = src.slice(open + 2, close);
    // {{- and -}} trim the whitespace next to them, as in Go
    if (action.startsWith('-')) { action = action.slice(1); text = text.replace(/\s+$/, ''); }
    let next = close + 2;
    if (action.endsWith('-')) {
      action = action.slice(0, -1);
      while (next < src.length && /\s/.test(src[next]!)) next++;
    }
    if (text) out.push({ text });
    out.push({ action: action.trim() });
    i = next;
  }
  return out;
}

function parse(src: string): Node[] {
  const tokens = tokenize(src);
  let pos = 0;
  const block = (inside: boolean): { body: Node[]; elseBody: Node[] } => {
    const body: Node[] = [];
    const elseBody: Node[] = [];
    let target = body;
    while (pos < tokens.length) {
      const t = tokens[pos++]!;
      if (t.text !== undefined) { target.push({ kind: 'text', text: t.text }); continue; }
      const a = t.action!;
      if (a === 'end') {
        if (!inside) throw new TemplateError('template: unexpected {{end}}');
        return { body, elseBody };
      }
      if (a === 'else') {
        if (!inside) throw new TemplateError('template: unexpected {{else}}');
        target = elseBody;
        continue;
      }
      const m = /^(range|if|with)\s+(.+)$/.exec(a);
      if (m) {
        const inner = block(true);
        target.push({ kind: m[1] as 'range' | 'if' | 'with', expr: m[2]!, ...inner });
        continue;
      }
      if (a.startsWith('/*')) continue; // comment
      target.push({ kind: 'expr', expr: a });
    }
    if (inside) throw new TemplateError('template: missing {{end}}');
    return { body, elseBody };
  };
  return block(false).body;
}

/** Splits an expression into words, keeping quoted strings and (parenthesised) groups whole. */
function words(expr: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '"' || c === '`') {
      let j = i + 1;
      while (j < expr.length && expr[j] !== c) j += expr[j] === '\\' && c === '"' ? 2 : 1;
      out.push(expr.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    if (c === '(') {
      let depth = 0, j = i;
      for (; j < expr.length; j++) {
        if (expr[j] === '(') depth++;
        else if (expr[j] === ')' && --depth === 0) break;
      }
      out.push(expr.slice(i, j + 1));
      i = j + 1;
      continue;
    }
    let j = i;
    while (j < expr.length && !/\s/.test(expr[j]!)) j++;
    out.push(expr.slice(i, j));
    i = j;
  }
  return out;
}

function field(value: unknown, name: string): unknown {
  if (value === null || value === undefined || typeof value !== 'object') return undefined;
  const obj = value as Record<string, unknown>;
  if (name in obj) return obj[name];
  // podman's Go structs are matched case-sensitively, but JSON keys here may differ in case.
  const key = Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase());
  return key === undefined ? undefined : obj[key];
}

function operand(word: string, dot: unknown, root: unknown): unknown {
  if (word === '.') return dot;
  if (word.startsWith('(')) return evaluate(word.slice(1, -1), dot, root);
  if (word.startsWith('"')) return JSON.parse(word) as string;
  if (word.startsWith('`')) return word.slice(1, -1);
  if (/^-?\d+(\.\d+)?$/.test(word)) return Number(word);
  if (word === 'true' || word === 'false') return word === 'true';
  if (word.startsWith('$.')) return path(word.slice(1), root);
  if (word.startsWith('.')) return path(word, dot);
  throw new TemplateError(`template: unsupported operand "${word}"`);
}

function path(p: string, base: unknown): unknown {
  let v = base;
  for (const part of p.split('.').filter(Boolean)) v = field(v, part);
  return v;
}

/** Go's %v for the values a JSON document holds. */
export function goString(v: unknown): string {
  if (v === undefined || v === null) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(goString).join(' ')}]`;
  if (typeof v === 'object') return `map[${Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)).map(([k, x]) => `${k}:${goString(x)}`).join(' ')}]`;
  return String(v);
}

function truthy(v: unknown): boolean {
  if (Array.isArray(v)) return v.length > 0;
  if (v && typeof v === 'object') return Object.keys(v).length > 0;
  return Boolean(v);
}

const FUNCS: Record<string, (args: unknown[]) => unknown> = {
  json: ([v]) => JSON.stringify(v ?? null),
  index: ([v, ...keys]) => keys.reduce<unknown>((acc, k) => (acc == null ? undefined : (acc as Record<string, unknown>)[String(k)]), v),
  len: ([v]) => (Array.isArray(v) || typeof v === 'string' ? v.length : v && typeof v === 'object' ? Object.keys(v).length : 0),
  join: ([v, sep]) => (Array.isArray(v) ? v.map(goString).join(String(sep ?? '')) : goString(v)),
  upper: ([v]) => goString(v).toUpperCase(),
  lower: ([v]) => goString(v).toLowerCase(),
  title: ([v]) => goString(v).replace(/\b\w/g, (c) => c.toUpperCase()),
  println: (args) => `${args.map(goString).join(' ')}\n`,
  print: (args) => args.map(goString).join(''),
  printf: ([fmt, ...args]) => String(fmt).replace(/%[sdv]/g, () => goString(args.shift())),
  not: ([v]) => !truthy(v),
  eq: ([a, ...bs]) => bs.some((b) => a === b),
  ne: ([a, b]) => a !== b,
  split: ([v, sep]) => goString(v).split(String(sep)),
  truncate: ([v, n]) => goString(v).slice(0, Number(n)),
};

function evaluate(expr: string, dot: unknown, root: unknown): unknown {
  // pipelines: `.X | json`
  const stages = expr.split(/\s\|\s/);
  let piped: unknown[] | undefined;
  let value: unknown;
  for (const stage of stages) {
    const w = words(stage.trim());
    if (w.length === 0) throw new TemplateError(`template: empty command in "${expr}"`);
    const head = w[0]!;
    const fn = FUNCS[head];
    if (fn) {
      const args = w.slice(1).map((x) => operand(x, dot, root));
      if (piped) args.push(...piped);
      value = fn(args);
    } else {
      if (w.length > 1 || piped) throw new TemplateError(`template: function "${head}" not defined`);
      value = operand(head, dot, root);
    }
    piped = [value];
  }
  return value;
}

function render(nodes: Node[], dot: unknown, root: unknown): string {
  let out = '';
  for (const n of nodes) {
    if (n.kind === 'text') out += n.text;
    else if (n.kind === 'expr') {
      const v = evaluate(n.expr, dot, root);
      out += typeof v === 'string' ? v : goString(v);
    } else {
      const v = evaluate(n.expr, dot, root);
      if (n.kind === 'if') out += render(truthy(v) ? n.body : n.elseBody, dot, root);
      else if (n.kind === 'with') out += truthy(v) ? render(n.body, v, root) : render(n.elseBody, dot, root);
      else {
        const items = Array.isArray(v) ? v : v && typeof v === 'object' ? Object.values(v) : [];
        out += items.length ? items.map((item) => render(n.body, item, root)).join('') : render(n.elseBody, dot, root);
      }
    }
  }
  return out;
}

/** Compiles a template; render it with `(data) => string`. Errors are TemplateError. */
export function compileTemplate(src: string): (data: unknown) => string {
  // podman turns a literal "\n" or "\t" typed in the shell into the character.
  const nodes = parse(src.replace(/\\n/g, '\n').replace(/\\t/g, '\t'));
  return (data) => render(nodes, data, data);
}

/** Whether a --format value is a Go template (else a name such as json or table). */
export function isTemplate(format: string): boolean {
  return format.includes('{{');
}
