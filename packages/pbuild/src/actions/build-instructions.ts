// What a Containerfile instruction means for an image config: the instruction as a step sees
// it (expanded with the image's ENV over the ARGs), and the changes a metadata instruction
// (ENV, LABEL, CMD, ...) makes.
import { StoreError } from '@pkit/storage/errors';
import type { ContainerConfig } from '@pkit/storage/oci-types';
import { expandInstruction, type Instruction, type StageArgs } from '../containerfile/index.ts';
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

/** An instruction ready to run: expanded, with the env and SHELL of the config it runs on. */
export interface PreparedStep {
  x: Instruction;
  env: Map<string, string>;
  shell: string[];
}

/**
 * Expands `instr` against the config the step starts from: ENV wins over an ARG of the same
 * name (the reference), both are visible; an ARG declares its value in `args` first.
 */
export function prepareStep(config: ContainerConfig | undefined, instr: Instruction, args: StageArgs): PreparedStep {
  const env = envMap(config?.Env);
  const lookup = (n: string) => env.get(n) ?? args.values.get(n);
  if (instr.kind === 'ARG') args.declare(instr, lookup);
  const x = instr.kind === 'ARG' ? instr : expandInstruction(instr, lookup);
  return { x, env, shell: (config as { Shell?: string[] } | undefined)?.Shell ?? DEFAULT_SHELL };
}

/** Whether a step changes files (it runs in a working container and makes a layer). */
export function changesFiles(x: Instruction): x is Extract<Instruction, { kind: 'RUN' | 'COPY' | 'ADD' }> {
  return x.kind === 'RUN' || x.kind === 'COPY' || x.kind === 'ADD';
}

/** The config changes of a step that does not change files (ARG: none). */
export function metadataChanges(x: Instruction, shell: string[]): ConfigChange[] {
  const changes = x.kind === 'ARG' ? [] : configChanges(x, shell);
  if (changes === undefined) throw new StoreError(`${x.loc.file}:${x.loc.line}: ${x.kind} is not supported by pbuild build yet`, 'PKIT_BAD_INPUT');
  return changes;
}
