// `pbuild build --squash`.
import { expandInstruction, type Instruction, type StageArgs } from '../containerfile/index.ts';
import { configChanges, DEFAULT_SHELL, envMap } from './build-instructions.ts';
import { bad, finalChanges, keyValues } from './build-request.ts';
import { withWorking, type Build } from './build-state.ts';
import { copyFromImage, fileStep } from './build-file-step.ts';
import { applyConfigChanges, readWorkingConfig, saveWorkingConfig } from './config.ts';
import { commit } from './working.ts';

/**
 * --squash: the last stage's steps all run in one working container and are committed as one
 * layer over its base (podman build --squash); each step still has its history entry. No step
 * is taken from the cache or recorded in it.
 */
export async function squashedStage(b: Build, base: string, comment: string, steps: Instruction[], args: StageArgs): Promise<string> {
  const { store, req } = b;
  return withWorking(b, base, async (rec) => {
    // the record as the last step left it (it keeps the image config the steps change)
    const current = async () => (await store.containers.get(rec.id)) ?? rec;
    const done: string[] = [];
    const baseOnBuild = (await readWorkingConfig(store, rec)).config.OnBuild?.length;
    for (const instr of steps) {
      b.say(`STEP ${++b.step}/${b.total}: ${instr.source}`);
      const wc = await readWorkingConfig(store, await current());
      const env = envMap(wc.config.Env);
      const lookup = (n: string) => env.get(n) ?? args.values.get(n);
      if (instr.kind === 'ARG') args.declare(instr, lookup);
      const x = instr.kind === 'ARG' ? instr : expandInstruction(instr, lookup);
      const shell = (wc.config as { Shell?: string[] }).Shell ?? DEFAULT_SHELL;
      if (x.kind === 'RUN' || x.kind === 'COPY' || x.kind === 'ADD') {
        const from = x.kind === 'COPY' && x.from !== undefined ? await copyFromImage(b, x.from, x) : undefined;
        done.push(await fileStep(b, await current(), x, args, env, shell, from));
        continue;
      }
      const changes = x.kind === 'ARG' ? [] : configChanges(x, shell);
      if (changes === undefined) throw bad(`${x.loc.file}:${x.loc.line}: ${x.kind} is not supported by pbuild build yet`);
      await saveWorkingConfig(store, await current(), applyConfigChanges(wc, changes));
      done.push(`/bin/sh -c #(nop) ${x.source}`);
    }
    const wc = applyConfigChanges(await readWorkingConfig(store, await current()), finalChanges(req));
    if (baseOnBuild) delete wc.config.OnBuild;
    const saved = await saveWorkingConfig(store, await current(), wc);
    b.say(`COMMIT ${req.tags[0] ?? ''}`.trimEnd());
    const annotations = keyValues(req.annotations ?? []);
    const made = await commit(store, saved, req.tags[0], {
      createdBy: done.at(-1) ?? 'pbuild build --squash',
      comment,
      folded: done.slice(0, -1),
      format: req.format ?? 'oci',
      ...(req.timestamp !== undefined ? { timestamp: req.timestamp } : {}),
      ...(annotations ? { annotations } : {}),
    });
    return made.id;
  });
}
