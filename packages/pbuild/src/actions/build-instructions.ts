// What a Containerfile instruction means for an image config: the changes a metadata
// instruction (ENV, LABEL, CMD, ...) makes, and the image's env as expansion sees it.
import type { Instruction } from '../containerfile/index.ts';
import type { ConfigChange } from './config.ts';

export const DEFAULT_SHELL = ['/bin/sh', '-c'];

export function envMap(env: readonly string[] | undefined): Map<string, string> {
  const m = new Map<string, string>();
  for (const e of env ?? []) {
    const eq = e.indexOf('=');
    if (eq > 0) m.set(e.slice(0, eq), e.slice(eq + 1));
  }
  return m;
}

/** A command-form value (CMD, ENTRYPOINT) as the config stores it. */
function commandOf(c: { form: 'exec'; args: string[] } | { form: 'shell'; text: string }, shell: string[]): string[] {
  return c.form === 'exec' ? c.args : [...shell, c.text];
}

/** What a metadata instruction changes in the image config; undefined for the others. */
export function configChanges(x: Instruction, shell: string[]): ConfigChange[] | undefined {
  switch (x.kind) {
    case 'ENV': return x.env.map((kv) => ({ kind: 'env' as const, key: kv.key, value: kv.value }));
    case 'WORKDIR': return [{ kind: 'workingdir', value: x.path }];
    case 'USER': return [{ kind: 'user', value: x.user }];
    case 'CMD': return [{ kind: 'cmd', value: commandOf(x.command, shell) }];
    case 'ENTRYPOINT': return [{ kind: 'entrypoint', value: commandOf(x.command, shell) }];
    case 'LABEL': return x.labels.map((kv) => ({ kind: 'label' as const, key: kv.key, value: kv.value }));
    case 'EXPOSE': return x.ports.map((p) => ({ kind: 'port' as const, value: p }));
    case 'VOLUME': return x.volumes.map((v) => ({ kind: 'volume' as const, value: v }));
    case 'STOPSIGNAL': return [{ kind: 'stopsignal', value: x.signal }];
    case 'SHELL': return [{ kind: 'shell', value: x.shell }];
    case 'ONBUILD': return [{ kind: 'onbuild', value: x.expression }];
    case 'MAINTAINER': return [{ kind: 'author', value: x.maintainer }];
    case 'HEALTHCHECK':
      return [{
        kind: 'healthcheck',
        value: {
          Test: x.test,
          ...(x.interval !== undefined ? { Interval: x.interval } : {}),
          ...(x.timeout !== undefined ? { Timeout: x.timeout } : {}),
          ...(x.startPeriod !== undefined ? { StartPeriod: x.startPeriod } : {}),
          ...(x.retries !== undefined ? { Retries: x.retries } : {}),
        },
      }];
    default: return undefined;
  }
}
