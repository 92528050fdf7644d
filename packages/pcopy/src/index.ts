// pcopy: the command table oclif reads (explicit strategy, package.json `oclif.commands`) and the
// entry point bin/pcopy calls. Command modules stay light; each loads its library code in run().
import { ROOT_FLAG, runCli } from '@pkit/cli-common';
import { fileURLToPath } from 'node:url';
import pjson from '../package.json' with { type: 'json' };
import Copy from './commands/copy.ts';
import Delete from './commands/delete.ts';
import Inspect from './commands/inspect.ts';
import ListTags from './commands/list-tags.ts';
import Login from './commands/login.ts';
import Logout from './commands/logout.ts';
import Sync from './commands/sync.ts';
import { PLATFORM_GLOBALS } from './flags.ts';

export const COMMANDS = { copy: Copy, delete: Delete, inspect: Inspect, 'list-tags': ListTags, login: Login, logout: Logout, sync: Sync };

export async function main(argv: string[]): Promise<void> {
  // the package dir, from src/ and from dist/
  await runCli(argv, { packageDir: fileURLToPath(new URL('..', import.meta.url)), pjson, commands: COMMANDS, globals: [ROOT_FLAG, ...PLATFORM_GLOBALS] });
}
