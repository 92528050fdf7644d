// Builds the addon with the system C++ compiler against the Node-API headers of the
// node-api-headers package. Node-API is ABI-stable, so no download of Node's own headers
// (which node-gyp would attempt) is needed, and no machine-wide npmrc is relied on.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(import.meta.url);

function fail(message) {
  console.error(`native build: ${message}`);
  process.exit(1);
}

function headersDir(pkg, sub) {
  try {
    return join(dirname(require.resolve(`${pkg}/package.json`)), sub);
  } catch {
    fail(`the npm package ${pkg} is missing: run "pnpm install" in the repository root`);
  }
}

const cxx = process.env.CXX || 'g++';
if (spawnSync(cxx, ['--version']).error) {
  fail(`no C++ compiler (${cxx}) found: install the Debian package g++ (apt-get install g++ make)`);
}

const napiInclude = headersDir('node-api-headers', 'include');
const addonApiInclude = headersDir('node-addon-api', '');
console.error(`native build: Node-API headers from ${napiInclude}, node-addon-api from ${addonApiInclude}`);

// PKIT_NATIVE_BUILD_DIR builds elsewhere (tests run as a user who cannot write the repo).
const out = process.env.PKIT_NATIVE_BUILD_DIR || join(here, 'build', 'Release');
mkdirSync(out, { recursive: true });
// Compiled beside the target and renamed over it: a process that has the old addon loaded
// keeps its mapping intact instead of seeing the file rewritten under it.
const target = join(out, 'pkit.node');
const tmp = `${target}.tmp-${process.pid}`;
const args = [
  '-std=c++17', '-O2', '-fPIC', '-shared', '-Wall', '-Wextra', '-Werror',
  '-fvisibility=hidden', '-DNAPI_VERSION=8', '-DNAPI_DISABLE_CPP_EXCEPTIONS=0', '-DNODE_ADDON_API_CPP_EXCEPTIONS',
  '-I', napiInclude, '-I', addonApiInclude,
  join(here, 'addon', 'pkit.cc'),
  // Node-API symbols come from the node executable that loads the addon.
  '-Wl,--unresolved-symbols=ignore-all',
  '-o', tmp,
];
const r = spawnSync(cxx, args, { stdio: ['ignore', 'inherit', 'pipe'], encoding: 'utf8' });
if (r.status !== 0) {
  rmSync(tmp, { force: true });
  const err = r.stderr || '';
  process.stderr.write(err);
  const missing = /fatal error: ([^:]+): No such file/.exec(err);
  if (missing) {
    const header = missing[1];
    const hint = header.includes('napi') || header.includes('node_api')
      ? 'run "pnpm install" so node-api-headers and node-addon-api are present'
      : `install the Debian package that provides ${header} (apt-file search ${header}); for libc headers: libc6-dev`;
    fail(`missing header ${header}: ${hint}`);
  }
  fail(`compiling addon/pkit.cc failed (exit ${r.status}); see the compiler output above`);
}
if (!existsSync(tmp)) fail('the compiler produced no pkit.node');
renameSync(tmp, target);
console.error(`native build: wrote ${target}`);
