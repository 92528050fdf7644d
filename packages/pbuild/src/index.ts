// pbuild: the command table oclif reads (explicit strategy, package.json `oclif.commands`) and the
// entry point bin/pbuild calls. Command modules stay light; each loads its library code in run().
import { runCli } from '@pkit/cli-common';
import { fileURLToPath } from 'node:url';
import pjson from '../package.json' with { type: 'json' };

export const COMMANDS = {};

export async function main(argv: string[]): Promise<void> {
  // the package dir, from src/ and from dist/
  await runCli(argv, { packageDir: fileURLToPath(new URL('..', import.meta.url)), pjson, commands: COMMANDS });
}
