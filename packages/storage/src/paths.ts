// Where a store lives. Rootless: $XDG_DATA_HOME/pkit and $XDG_RUNTIME_DIR/pkit; root: /var/lib/pkit
// and /run/pkit. `--root` (passed as `root`) or PKIT_ROOT override the data root, PKIT_RUNROOT the runtime one.
import { statSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';

export interface StorePaths {
  /** Persistent data: blobs, layers, images, containers. */
  root: string;
  /** Volatile state (tmpfs when available): pid files, sockets. */
  runRoot: string;
}

export interface PathOptions {
  root?: string;
  runRoot?: string;
  env?: NodeJS.ProcessEnv;
  uid?: number;
}

export function resolveStorePaths(opts: PathOptions = {}): StorePaths {
  const env = opts.env ?? process.env;
  const uid = opts.uid ?? process.getuid?.() ?? 0;
  const root = opts.root || env.PKIT_ROOT || (uid === 0 ? '/var/lib/pkit' : join(dataHome(env), 'pkit'));
  const runRoot = opts.runRoot || env.PKIT_RUNROOT || (uid === 0 ? '/run/pkit' : userRunRoot(env, uid));
  return { root, runRoot };
}

function dataHome(env: NodeJS.ProcessEnv): string {
  return env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share');
}

/**
 * $XDG_RUNTIME_DIR/pkit only when that dir exists and belongs to us (su and sudo leak another
 * user's), else a private directory under the temp dir, created 0700 by its first user.
 */
function userRunRoot(env: NodeJS.ProcessEnv, uid: number): string {
  const xdg = env.XDG_RUNTIME_DIR;
  if (xdg) {
    try {
      const st = statSync(xdg);
      if (st.isDirectory() && st.uid === uid) return join(xdg, 'pkit');
    } catch {
      // absent: fall through to the private temp dir
    }
  }
  return join(env.TMPDIR || tmpdir(), `pkit-run-${uid}`);
}
