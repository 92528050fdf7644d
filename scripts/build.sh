#!/usr/bin/env bash
# Builds what the repo runs from: the three CLI bundles (packages/<cli>/dist, oclif.manifest.json).
# Works from a clean clone after `pnpm install` (the native addon is built by its install script).
# Extra arguments go to scripts/bundle.mjs, e.g. `bash scripts/build.sh prun --no-minify`.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
node scripts/bundle.mjs "$@"
