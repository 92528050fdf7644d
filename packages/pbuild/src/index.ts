// pbuild: the command table oclif reads (explicit strategy, package.json `oclif.commands`) and the
// entry point bin/pbuild calls. Command modules stay light; each loads its library code in run().
import { runCli } from '@pkit/cli-common';
import { fileURLToPath } from 'node:url';
import pjson from '../package.json' with { type: 'json' };

import Add from './commands/add.ts';
import Build from './commands/build.ts';
import Commit from './commands/commit.ts';
import Config from './commands/config.ts';
import Containers from './commands/containers.ts';
import Copy from './commands/copy.ts';
import From from './commands/from.ts';
import Images from './commands/images.ts';
import Info from './commands/info.ts';
import Login from '@pkit/cli-common/commands/login';
import Logout from '@pkit/cli-common/commands/logout';
import Inspect from './commands/inspect.ts';
import Mount from './commands/mount.ts';
import Pull from './commands/pull.ts';
import Push from './commands/push.ts';
import Rename from './commands/rename.ts';
import Rm from './commands/rm.ts';
import Rmi from './commands/rmi.ts';
import Run from './commands/run.ts';
import Tag from './commands/tag.ts';
import Umount from './commands/umount.ts';
import Unshare from './commands/unshare.ts';
import Version from './commands/version.ts';

// One entry per line (several people add commands here).
export const COMMANDS = {
  build: Build,
  bud: Build,
  add: Add,
  commit: Commit,
  config: Config,
  containers: Containers,
  copy: Copy,
  from: From,
  images: Images,
  info: Info,
  login: Login,
  logout: Logout,
  inspect: Inspect,
  mount: Mount,
  pull: Pull,
  push: Push,
  rename: Rename,
  rm: Rm,
  rmi: Rmi,
  run: Run,
  tag: Tag,
  umount: Umount,
  unmount: Umount,
  unshare: Unshare,
  version: Version,
};

export async function main(argv: string[]): Promise<void> {
  // the package dir, from src/ and from dist/
  await runCli(argv, { packageDir: fileURLToPath(new URL('..', import.meta.url)), pjson, commands: COMMANDS });
}
