// Builds the runtime helper native/helper/*.c -> build/Release/pkit-runtime with the system C
// compiler, linked against libseccomp and json-c. A missing library or header gives one
// line naming the Debian package to install. PKIT_NATIVE_BUILD_DIR builds elsewhere (tests
// run as a user who cannot write the repository); CC picks the compiler.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

function fail(message) {
  console.error(`native build: ${message}`);
  process.exit(1);
}

// header or library name -> Debian package
const PACKAGES = {
  'seccomp.h': 'libseccomp-dev',
  'json-c/json.h': 'libjson-c-dev',
  seccomp: 'libseccomp-dev',
  'json-c': 'libjson-c-dev',
};

const cc = process.env.CC || 'cc';
if (spawnSync(cc, ['--version']).error) {
  fail(`no C compiler (${cc}) found: install the Debian package gcc (apt-get install gcc libc6-dev)`);
}

const src = join(here, 'helper');
const sources = readdirSync(src).filter((f) => f.endsWith('.c')).sort().map((f) => join(src, f));
if (sources.length === 0) fail(`no sources in ${src}`);

const out = process.env.PKIT_NATIVE_BUILD_DIR || join(here, 'build', 'Release');
mkdirSync(out, { recursive: true });
const target = join(out, 'pkit-runtime');
// Compiled beside the target and renamed over it, so a running helper keeps its file.
const tmp = `${target}.tmp-${process.pid}`;
const args = [
  '-std=gnu11', '-O2', '-g', '-Wall', '-Wextra', '-Werror', '-D_GNU_SOURCE', '-D_FILE_OFFSET_BITS=64',
  '-fstack-protector-strong', '-D_FORTIFY_SOURCE=2',
  ...sources,
  '-o', tmp,
  '-lseccomp', '-ljson-c',
];
const r = spawnSync(cc, args, { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  rmSync(tmp, { force: true });
  const err = r.stderr || '';
  process.stderr.write(err);
  const header = /fatal error: ([^:]+): No such file/.exec(err);
  if (header) {
    const pkg = PACKAGES[header[1]];
    fail(`missing header ${header[1]}: install the Debian package ${pkg ?? `that provides it (apt-file search ${header[1]}); for libc headers: libc6-dev`}`);
  }
  const lib = /cannot find -l([\w-]+)/.exec(err);
  if (lib) {
    const pkg = PACKAGES[lib[1]];
    fail(`missing library lib${lib[1]}: install the Debian package ${pkg ?? `lib${lib[1]}-dev`}`);
  }
  fail(`compiling native/helper failed (exit ${r.status}); see the compiler output above`);
}
if (!existsSync(tmp)) fail('the compiler produced no pkit-runtime');
renameSync(tmp, target);
console.error(`native build: wrote ${target}`);
