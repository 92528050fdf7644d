// Running a short command to completion and collecting its output: node's execFile, never
// rejecting for a non-zero exit (the callers read the code and stderr themselves).
import { execFile } from 'node:child_process';

export interface ExecResult {
  /** The exit code; undefined when the command could not be started or died of a signal. */
  exitCode: number | undefined;
  signal: NodeJS.Signals | undefined;
  stdout: string;
  stderr: string;
  /** Why it could not be started (ENOENT, EACCES, ...). */
  spawnError?: Error;
}

export function execFileResult(file: string, args: string[], opts: { env?: NodeJS.ProcessEnv } = {}): Promise<ExecResult> {
  return new Promise((resolve) => {
    const child = execFile(file, args, { encoding: 'utf8', maxBuffer: 16 << 20, ...(opts.env ? { env: opts.env } : {}) }, (err, stdout, stderr) => {
      const e = err as (NodeJS.ErrnoException & { code?: number | string; signal?: NodeJS.Signals }) | null;
      const spawnFailed = e !== null && typeof e.code === 'string';
      resolve({
        exitCode: e === null ? 0 : typeof e.code === 'number' ? e.code : undefined,
        signal: e?.signal ?? undefined,
        stdout,
        stderr,
        ...(spawnFailed ? { spawnError: e } : {}),
      });
    });
    child.stdin?.end();
  });
}
