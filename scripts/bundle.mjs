#!/usr/bin/env node
// Bundles the three CLIs (pbuild, prun, pcopy) with esbuild into packages/<cli>/dist/:
//   <cli>.mjs           the entry bin/<cli> imports: oclif, the command table, the command classes
//   chunks/*.mjs        code loaded by `await import()` inside a command's run() (libraries)
//   apply-worker.mjs    the layer apply worker program (run inside a user namespace by the rootless store)
//   diff-worker.mjs     the layer diff worker program (pbuild, prun: an upper dir -> a layer tar, in a user namespace)
//   oclif.manifest.json in packages/<cli>/: the command metadata oclif reads at start instead of
//                       computing it from every command class on every run
// Usage: node scripts/bundle.mjs [cli...] [--no-minify] [--no-split] [--no-shims] [--no-lazy] [--no-manifest]
//        [--metafile]   (the --no-* switches exist to measure each start-up lever; see docs/cli.md)
import { build } from 'esbuild';
import { readFile, rename, rm, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = fileURLToPath(new URL('..', import.meta.url));
const ALL = ['pbuild', 'prun', 'pcopy'];
const args = process.argv.slice(2);
const opt = (name) => !args.includes(`--no-${name}`);
const clis = args.filter((a) => !a.startsWith('--'));
for (const c of clis) if (!ALL.includes(c)) throw new Error(`unknown CLI "${c}": expected one of ${ALL.join(', ')}`);

// Never bundled: the native addon (a .node binary, loaded at run time) and the TypeScript
// toolchain oclif only looks for in development set-ups (a tsconfig.json in the package root).
const EXTERNAL = ['@pkit/native', 'typescript', 'ts-node', 'tsx'];
// Never allowed in a bundle: heavy or development-only packages; the build fails if one sneaks in.
const FORBIDDEN = /node_modules\/(\.pnpm\/[^/]+\/node_modules\/)?(typescript|ts-node|tsx|esbuild|uvu|@types)\//;

// Tiny stand-ins for oclif dependencies that a CLI with an explicit command table and no plugins
// never needs at run time. Each keeps the API oclif calls, so nothing breaks if a path is reached.
const SHIMS = {
  // oclif logs through `debug`; this keeps DEBUG=<pattern> (e.g. DEBUG=oclif*, DEBUG=*) working,
  // writing to stderr, without the module's colour and formatter machinery.
  debug: `
    const { format } = require('node:util');
    const pats = (process.env.DEBUG || '').split(/[\\s,]+/).filter(Boolean);
    const rx = (p) => new RegExp('^' + p.replace(/[.+?^$()[\\]{}|\\\\]/g, '\\\\$&').replace(/\\*/g, '.*') + '$');
    const on = pats.filter((p) => p[0] !== '-').map(rx), off = pats.filter((p) => p[0] === '-').map((p) => rx(p.slice(1)));
    function enabled(ns) { return !off.some((r) => r.test(ns)) && on.some((r) => r.test(ns)); }
    function createDebug(ns) {
      const d = (...a) => { if (d.enabled) process.stderr.write(ns + ' ' + format(...a) + '\\n'); };
      d.enabled = enabled(ns); d.namespace = ns; d.log = d; d.extend = (s, del = ':') => createDebug(ns + del + s);
      return d;
    }
    createDebug.enabled = enabled; createDebug.enable = () => {}; createDebug.disable = () => ''; createDebug.default = createDebug;
    module.exports = createDebug;`,
  // Only used by oclif's engines check, which reads a package.json that does not exist in a bundle.
  semver: `module.exports = { satisfies: () => true };`,
  // Only used to discover commands by file pattern; the CLIs use the explicit strategy.
  tinyglobby: `exports.glob = async () => { throw new Error('command discovery by pattern is not supported in this build'); };`,
  // Only used to match plugin names in package.json `oclif.plugins`; the CLIs declare none.
  minimatch: `exports.minimatch = (s, p) => new RegExp('^' + p.split('*').map((x) => x.replace(/[.+?^$()[\\]{}|\\\\]/g, '\\\\$&')).join('.*') + '$').test(s);`,
  // 90 spinner definitions parsed at start for ux.action; keep the two oclif picks by default.
  'cli-spinners': `module.exports = {
    dots2: { interval: 80, frames: ['⣾', '⣽', '⣻', '⢿', '⡿', '⣟', '⣯', '⣷'] },
    line: { interval: 130, frames: ['-', '\\\\', '|', '/'] } };`,
};

const shimPlugin = {
  name: 'pkit-shims',
  setup(b) {
    const filter = new RegExp(`^(${Object.keys(SHIMS).map((k) => k.replace(/[-/]/g, '\\$&')).join('|')})$`);
    b.onResolve({ filter }, (a) => ({ path: a.path, namespace: 'pkit-shim' }));
    b.onLoad({ filter: /.*/, namespace: 'pkit-shim' }, (a) => ({ contents: SHIMS[a.path], loader: 'js' }));
  },
};

// "Inline requires" for @oclif/core: its compiled modules require everything at the top
// (`const config_1 = require("./config");`), so loading the package evaluates help, parser, ux,
// ejs, colour detection... for every command. This rewrites each top-level `const x_1 = require(...)`
// into a memoised getter and its uses `x_1.` into `($x_1()).`, so a module is evaluated the first
// time it is used. Only TypeScript's `<name>_<n>` aliases are touched (unique identifiers).
const REQUIRE_DECL = /^(?:const|var|let) ([A-Za-z_$][\w$]*_\d+) = ((?:__importDefault|__importStar)\()?require\(("[^"]+")\)\)?;$/gm;
const lazyRequires = {
  name: 'pkit-lazy-requires',
  setup(b) {
    b.onLoad({ filter: /[\\/]@oclif[\\/]core[\\/]lib[\\/].*\.js$/ }, async (a) => {
      let src = await readFile(a.path, 'utf8');
      const names = [];
      src = src.replace(REQUIRE_DECL, (_, name, wrap, spec) => {
        names.push(name);
        const expr = wrap ? `${wrap}require(${spec}))` : `require(${spec})`;
        return `let ${name}$v; function $${name}() { return ${name}$v ??= ${expr}; }`;
      });
      for (const name of names) src = src.replace(new RegExp(`(?<![\\w$.])${name.replace(/\$/g, '\\$')}(?![\\w$]|\\$v| *=[^=])`, 'g'), `($${name}())`);
      return { contents: src, loader: 'js' };
    });
  },
};

// The CLIs that apply layers into the store.
const WORKER_CLIS = ['prun', 'pcopy', 'pbuild'];
// The CLIs that commit containers' upper directories as layers.
const DIFF_WORKER_CLIS = ['prun', 'pbuild'];

async function bundle(cli) {
  const pkgDir = join(REPO, 'packages', cli);
  // Built beside dist/ and swapped in at the end, so a CLI running meanwhile (a test, another
  // build) never finds dist/ half written or missing.
  const dist = join(pkgDir, 'dist');
  const outdir = join(pkgDir, `dist.new-${process.pid}`);
  await rm(outdir, { recursive: true, force: true });
  const result = await build({
    absWorkingDir: REPO,
    // The layer apply worker runs as a program of its own (inside a user namespace).
    entryPoints: {
      [cli]: join(pkgDir, 'src', 'index.ts'),
      ...(WORKER_CLIS.includes(cli) ? { 'apply-worker': join(REPO, 'packages/storage/src/layers/apply-worker-main.ts') } : {}),
      ...(DIFF_WORKER_CLIS.includes(cli) ? { 'diff-worker': join(REPO, 'packages/storage/src/layers/diff-worker-main.ts') } : {}),
    },
    outdir,
    outExtension: { '.js': '.mjs' },
    chunkNames: 'chunks/[name]-[hash]',
    bundle: true,
    splitting: opt('split'),
    platform: 'node',
    format: 'esm',
    target: 'node22',
    minify: opt('minify'),
    legalComments: 'none',
    external: EXTERNAL,
    plugins: [...(opt('shims') ? [shimPlugin] : []), ...(opt('lazy') ? [lazyRequires] : [])],
    // The CommonJS dependencies (oclif) call require(); give the ESM output one.
    banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
    metafile: true,
    logLevel: 'warning',
  });
  const inputs = Object.keys(result.metafile.inputs);
  const bad = inputs.filter((p) => FORBIDDEN.test(p));
  if (bad.length) throw new Error(`${cli}: the bundle must not contain ${bad.join(', ')}`);
  if (args.includes('--metafile')) await writeFile(join(outdir, 'meta.json'), JSON.stringify(result.metafile));
  const sizes = Object.entries(result.metafile.outputs).map(([f, o]) => `${relative(outdir, join(REPO, f)).replace(/^/, 'dist/')} ${(o.bytes / 1024).toFixed(0)} KiB`);
  const old = join(pkgDir, `dist.old-${process.pid}`);
  await rename(dist, old).catch((e) => { if (e.code !== 'ENOENT') throw e; });
  await rename(outdir, dist);
  await rm(old, { recursive: true, force: true });
  if (opt('manifest')) await writeManifest(pkgDir);
  console.error(`${cli}: ${sizes.join(', ')}${opt('manifest') ? ', oclif.manifest.json' : ''}`);
}

// What `oclif manifest` does: load the built plugin with the workspace's @oclif/core, ignoring any
// old manifest, and write the command metadata (flags, args, summaries) next to package.json.
async function writeManifest(pkgDir) {
  const req = createRequire(join(pkgDir, 'package.json'));
  const { Plugin } = await import(pathToFileURL(req.resolve('@oclif/core')).href);
  const plugin = new Plugin({ root: pkgDir, isRoot: true, ignoreManifest: true, errorOnManifestCreate: true });
  await plugin.load();
  const tmp = join(pkgDir, `oclif.manifest.json.${process.pid}`);
  await writeFile(tmp, JSON.stringify(plugin.manifest));
  await rename(tmp, join(pkgDir, 'oclif.manifest.json'));
}

for (const cli of clis.length ? clis : ALL) await bundle(cli);
