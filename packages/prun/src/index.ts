// prun: the command table oclif reads (explicit strategy, package.json `oclif.commands`) and the
// entry point bin/prun calls. Command modules stay light; each loads its library code in run().
import { runCli } from '@pkit/cli-common';
import { fileURLToPath } from 'node:url';
import pjson from '../package.json' with { type: 'json' };
import Create from './commands/create.ts';
import Exec, { execFast } from './commands/exec.ts';
import Kill from './commands/kill.ts';
import Logs from './commands/logs.ts';
import Restart from './commands/restart.ts';
import Start from './commands/start.ts';
import Stop from './commands/stop.ts';
import Version from './commands/version.ts';
import Wait from './commands/wait.ts';
import Login from '@pkit/cli-common/commands/login';
import Logout from '@pkit/cli-common/commands/logout';
import Images from './commands/images.ts';
import Inspect from './commands/inspect.ts';
import Import from './commands/import.ts';
import Info from './commands/info.ts';
import Ps from './commands/ps.ts';
import Rm from './commands/rm.ts';
import Rmi from './commands/rmi.ts';
import Run, { runFast } from './commands/run.ts';
import Tag from './commands/tag.ts';
import History from './commands/history.ts';
import ImageInspect from './commands/image/inspect.ts';
import ImagePrune from './commands/image/prune.ts';
import Load from './commands/load.ts';
import Pull from './commands/pull.ts';
import Push from './commands/push.ts';
import Save from './commands/save.ts';
import SystemDf from './commands/system/df.ts';
import SystemPrune from './commands/system/prune.ts';
import Cp from './commands/cp.ts';
import Port from './commands/port.ts';
import Top from './commands/top.ts';
import Unshare from './commands/unshare.ts';
import VolumeCreate from './commands/volume/create.ts';
import VolumeExists from './commands/volume/exists.ts';
import VolumeInspect from './commands/volume/inspect.ts';
import VolumeLs from './commands/volume/ls.ts';
import VolumePrune from './commands/volume/prune.ts';
import VolumeRm from './commands/volume/rm.ts';

// One entry per line (several people add commands here). Topic commands use "topic:verb" ids.
export const COMMANDS = {
  create: Create,
  'container:create': Create,
  'container:exec': Exec,
  'container:inspect': Inspect,
  'container:kill': Kill,
  'container:list': Ps,
  'container:logs': Logs,
  'container:ls': Ps,
  'container:ps': Ps,
  'container:restart': Restart,
  'container:rm': Rm,
  'container:run': Run,
  'container:start': Start,
  'container:stop': Stop,
  'container:wait': Wait,
  exec: Exec,
  kill: Kill,
  logs: Logs,
  restart: Restart,
  start: Start,
  stop: Stop,
  version: Version,
  wait: Wait,
  images: Images,
  login: Login,
  logout: Logout,
  inspect: Inspect,
  import: Import,
  info: Info,
  ps: Ps,
  rm: Rm,
  rmi: Rmi,
  run: Run,
  tag: Tag,
  history: History,
  'image:history': History,
  'image:inspect': ImageInspect,
  'image:list': Images,
  'image:load': Load,
  'image:ls': Images,
  'image:prune': ImagePrune,
  'image:pull': Pull,
  'image:push': Push,
  'image:rm': Rmi,
  'image:save': Save,
  'image:tag': Tag,
  load: Load,
  pull: Pull,
  push: Push,
  save: Save,
  'system:df': SystemDf,
  'system:prune': SystemPrune,
  cp: Cp,
  'container:cp': Cp,
  port: Port,
  'container:port': Port,
  top: Top,
  'container:top': Top,
  unshare: Unshare,
  'volume:create': VolumeCreate,
  'volume:exists': VolumeExists,
  'volume:inspect': VolumeInspect,
  'volume:list': VolumeLs,
  'volume:ls': VolumeLs,
  'volume:prune': VolumePrune,
  'volume:remove': VolumeRm,
  'volume:rm': VolumeRm,
};

export async function main(argv: string[]): Promise<void> {
  // the package dir, from src/ and from dist/
  await runCli(argv, { packageDir: fileURLToPath(new URL('..', import.meta.url)), pjson, commands: COMMANDS, fast: { run: runFast, exec: execFast } });
}
