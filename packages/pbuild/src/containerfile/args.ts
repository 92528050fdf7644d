// ARG scoping, for the parser (FROM lines) and the build engine (each stage):
// - the automatic platform ARGs (TARGETPLATFORM, TARGETOS, ..., BUILDVARIANT) exist in the
//   global scope, so FROM lines can use them; `--build-arg` may override them;
// - global ARGs (before the first FROM) get their `--build-arg` value or their default, expanded
//   with the global ARGs before them; they are usable in FROM lines only;
// - inside a stage an ARG comes into scope where it is declared: `--build-arg` wins over the
//   default; an ARG without a default takes the global value of the same name (that is how a
//   global ARG is brought into a stage); a stage based on another stage inherits its ARGs;
// - the predefined proxy ARGs reach RUN from `--build-arg` without being declared, and stay
//   out of the history and the cache key unless declared.
import { ParseError, type Where } from './errors.ts';
import { expandWord, toLookup, type EnvLike } from './expand.ts';
import type { ArgInstruction } from './instructions.ts';

export type ArgValues = ReadonlyMap<string, string> | Readonly<Record<string, string>>;

export function toMap(values: ArgValues | undefined): Map<string, string> {
  if (values === undefined) return new Map();
  if (values instanceof Map) return new Map(values);
  return new Map(Object.entries(values as Record<string, string>));
}

export const PROXY_ARGS: readonly string[] = [
  'HTTP_PROXY', 'http_proxy', 'HTTPS_PROXY', 'https_proxy', 'FTP_PROXY', 'ftp_proxy', 'NO_PROXY', 'no_proxy', 'ALL_PROXY', 'all_proxy',
];

export const PLATFORM_ARGS: readonly string[] = [
  'TARGETPLATFORM', 'TARGETOS', 'TARGETARCH', 'TARGETVARIANT', 'BUILDPLATFORM', 'BUILDOS', 'BUILDARCH', 'BUILDVARIANT',
];

// ---- platforms --------------------------------------------------------------------------------

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

const ARCH_ALIASES: Record<string, [string, string?]> = {
  x86_64: ['amd64'], 'x86-64': ['amd64'], amd64: ['amd64'],
  aarch64: ['arm64'], arm64: ['arm64'],
  armhf: ['arm', 'v7'], armel: ['arm', 'v6'], arm: ['arm'],
  i386: ['386'], i486: ['386'], i586: ['386'], i686: ['386'], x86: ['386'], '386': ['386'],
};

/** `os[/arch[/variant]]`, normalized like containerd (x86_64 -> amd64, arm -> arm/v7, ...). */
export function parsePlatform(spec: string, where: Where = { file: '--platform', line: 0, col: 0 }): Platform {
  const parts = spec.split('/');
  if (parts.length > 3 || parts.some((p) => !/^[A-Za-z0-9_.-]+$/.test(p))) {
    throw new ParseError(where, `invalid platform "${spec}": expected OS/ARCH[/VARIANT], e.g. linux/amd64 or linux/arm/v7`);
  }
  const os = parts[0]!.toLowerCase();
  if (parts.length === 1) {
    // a lone architecture means linux/ARCH; a lone OS means OS on this machine's architecture
    const alias = ARCH_ALIASES[os];
    if (alias) return normalize({ os: 'linux', architecture: alias[0], ...(alias[1] ? { variant: alias[1] } : {}) });
    return normalize({ ...hostPlatform(), os });
  }
  const p: Platform = { os, architecture: parts[1]!.toLowerCase() };
  if (parts[2] !== undefined) p.variant = parts[2].toLowerCase();
  return normalize(p);
}

function normalize(p: Platform): Platform {
  const alias = ARCH_ALIASES[p.architecture];
  const out: Platform = { os: p.os === 'macos' ? 'darwin' : p.os, architecture: alias ? alias[0] : p.architecture };
  let variant = p.variant ?? alias?.[1];
  if (out.architecture === 'arm64' && (variant === 'v8' || variant === '8')) variant = undefined;
  if (out.architecture === 'arm') variant = variant === undefined ? 'v7' : variant.startsWith('v') ? variant : `v${variant}`;
  if (out.architecture === 'amd64' && variant === 'v1') variant = undefined;
  if (variant) out.variant = variant;
  return out;
}

export function formatPlatform(p: Platform): string {
  return p.variant ? `${p.os}/${p.architecture}/${p.variant}` : `${p.os}/${p.architecture}`;
}

/** The platform of this machine, in OCI terms. */
export function hostPlatform(): Platform {
  const arch: Record<string, Platform> = {
    x64: { os: 'linux', architecture: 'amd64' },
    arm64: { os: 'linux', architecture: 'arm64' },
    arm: { os: 'linux', architecture: 'arm', variant: 'v7' },
    ia32: { os: 'linux', architecture: '386' },
    ppc64: { os: 'linux', architecture: 'ppc64le' },
    s390x: { os: 'linux', architecture: 's390x' },
    riscv64: { os: 'linux', architecture: 'riscv64' },
    loong64: { os: 'linux', architecture: 'loong64' },
  };
  const p = arch[process.arch] ?? { os: 'linux', architecture: process.arch };
  return { ...p, os: process.platform === 'linux' ? 'linux' : process.platform };
}

export interface BuildPlatforms {
  /** the platform of the image being built (default: the build platform) */
  target?: Platform | string;
  /** the platform of this machine (default: hostPlatform()) */
  build?: Platform | string;
}

/** The automatic platform ARGs, as they are in the global scope. */
export function platformArgs(platforms: BuildPlatforms = {}): Map<string, string> {
  const asPlatform = (p: Platform | string | undefined, fallback: Platform): Platform =>
    p === undefined ? fallback : typeof p === 'string' ? parsePlatform(p) : normalize(p);
  const build = asPlatform(platforms.build, hostPlatform());
  const target = asPlatform(platforms.target, build);
  return new Map([
    ['TARGETPLATFORM', formatPlatform(target)],
    ['TARGETOS', target.os],
    ['TARGETARCH', target.architecture],
    ['TARGETVARIANT', target.variant ?? ''],
    ['BUILDPLATFORM', formatPlatform(build)],
    ['BUILDOS', build.os],
    ['BUILDARCH', build.architecture],
    ['BUILDVARIANT', build.variant ?? ''],
  ]);
}

function whereOf(arg: ArgInstruction): Where {
  return { file: arg.loc.file, line: arg.loc.line, col: arg.loc.col };
}

/**
 * The variables FROM lines see: the automatic platform ARGs (a --build-arg of the same name
 * overrides them), then each global ARG with its --build-arg value or its expanded default.
 */
export function resolveGlobalArgs(
  globalArgs: readonly ArgInstruction[],
  buildArgs: ArgValues | undefined,
  platforms: BuildPlatforms | Map<string, string> = {},
  escape = '\\',
): Map<string, string> {
  const given = toMap(buildArgs);
  const values = platforms instanceof Map ? new Map(platforms) : platformArgs(platforms);
  for (const name of PLATFORM_ARGS) {
    const v = given.get(name);
    if (v !== undefined) values.set(name, v);
  }
  for (const instr of globalArgs) {
    for (const decl of instr.args) {
      const v = given.get(decl.name);
      if (v !== undefined) values.set(decl.name, v);
      else if (decl.default !== undefined) values.set(decl.name, expandWord(decl.default, values, { escape, where: whereOf(instr) }));
    }
  }
  return values;
}

/** The ARGs of one stage as the build goes through it. */
export class StageArgs {
  /** declared ARGs with a value, in declaration order (the RUN environment, the cache key) */
  readonly values = new Map<string, string>();
  /** every ARG declared in this stage or inherited, with or without a value */
  readonly declared = new Set<string>();
  private readonly globals: ReadonlyMap<string, string>;
  private readonly buildArgs: ReadonlyMap<string, string>;

  constructor(globals: ReadonlyMap<string, string>, buildArgs: ReadonlyMap<string, string>, inherited?: StageArgs) {
    this.globals = globals;
    this.buildArgs = buildArgs;
    if (inherited) {
      for (const [k, v] of inherited.values) this.values.set(k, v);
      for (const k of inherited.declared) this.declared.add(k);
    }
  }

  /**
   * Brings the ARGs of one instruction into scope. `env` is what the stage sees before this
   * instruction (its ENV and ARG values); a default may use ARGs declared earlier on the same
   * line. Returns each name with its value (undefined: declared without a value).
   */
  declare(instr: ArgInstruction, env: EnvLike, escape = '\\'): Array<{ name: string; value: string | undefined }> {
    const base = toLookup(env);
    const local = new Map<string, string>();
    const lookup = (name: string): string | undefined => (local.has(name) ? local.get(name) : base(name));
    const out: Array<{ name: string; value: string | undefined }> = [];
    for (const decl of instr.args) {
      let value = this.buildArgs.get(decl.name);
      if (value === undefined && decl.default !== undefined) value = expandWord(decl.default, lookup, { escape, where: whereOf(instr) });
      if (value === undefined) value = this.globals.get(decl.name);
      this.declared.add(decl.name);
      if (value !== undefined) {
        local.set(decl.name, value);
        this.values.delete(decl.name);
        this.values.set(decl.name, value);
      } else {
        this.values.delete(decl.name);
      }
      out.push({ name: decl.name, value });
    }
    return out;
  }

  /** The predefined proxy ARGs given with --build-arg and not declared: RUN's extra environment. */
  proxyEnv(): Map<string, string> {
    const out = new Map<string, string>();
    for (const name of PROXY_ARGS) {
      const v = this.buildArgs.get(name);
      if (v !== undefined && !this.declared.has(name)) out.set(name, v);
    }
    return out;
  }
}

/**
 * A stage's ARG scope. `globals` is resolveGlobalArgs' result (Containerfile.globalValues);
 * `inherited` is the scope of the stage this one is based on (FROM an earlier stage).
 */
export function stageArgs(globals: ReadonlyMap<string, string>, buildArgs: ArgValues | undefined, inherited?: StageArgs): StageArgs {
  return new StageArgs(globals, toMap(buildArgs), inherited);
}

/**
 * --build-arg names nothing consumed (buildah warns about them): not declared by a global ARG or
 * by an ARG in the given instructions, and not predefined.
 */
export function unusedBuildArgs(buildArgs: ArgValues | undefined, argInstructions: Iterable<ArgInstruction>): string[] {
  const used = new Set<string>([...PROXY_ARGS, ...PLATFORM_ARGS]);
  for (const instr of argInstructions) for (const d of instr.args) used.add(d.name);
  return [...toMap(buildArgs).keys()].filter((k) => !used.has(k)).sort();
}
