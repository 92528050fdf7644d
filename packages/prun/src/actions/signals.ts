// Signal names as podman takes them: KILL, SIGKILL, kill, or a number.
import { constants } from 'node:os';
import { StoreError } from '@pkit/storage/errors';

export function signalNumber(value: string): number {
  const v = value.trim();
  if (/^\d+$/.test(v)) {
    const n = Number(v);
    if (n >= 1 && n <= 64) return n;
  } else {
    const up = v.toUpperCase();
    const name = (up.startsWith('SIG') ? up : `SIG${up}`) as NodeJS.Signals;
    const n = constants.signals[name];
    if (n !== undefined) return n;
    const rt = /^SIGRTMIN(?:\+(\d+))?$/.exec(name);
    if (rt) return 34 + Number(rt[1] ?? 0);
  }
  throw new StoreError(`invalid signal: ${value}: use a name such as TERM or KILL, or a number from 1 to 64`, 'PKIT_BAD_INPUT');
}
