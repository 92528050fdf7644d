'use strict';
// Loads the compiled addon; a missing build is reported with the command that makes it.
const { join } = require('node:path');
const file = join(__dirname, 'build', 'Release', 'pkit.node');
try {
  module.exports = require(file);
} catch (err) {
  const e = new Error(`pkit native addon not loadable (${file}): ${err.message}; build it with "pnpm install" or "node native/build.mjs"`);
  e.code = 'PKIT_NATIVE_MISSING';
  throw e;
}
