// `pbuild build --squash`.
import type { Instruction, StageArgs } from '../containerfile/index.ts';
import { changesFiles, metadataChanges, prepareStep } from './build-instructions.ts';
import { finalChanges, keyValues } from './build-request.ts';
import { withWorking, type Build } from './build-state.ts';
import { fileStep, stepImages } from './build-file-step.ts';
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
    // the base's ONBUILD triggers are among the steps: the image does not keep them
    const start = await readWorkingConfig(store, rec);
    delete start.config.OnBuild;
    await saveWorkingConfig(store, rec, start);
    const done: string[] = [];
    for (const instr of steps) {
      b.say(`STEP ${++b.step}/${b.total}: ${instr.source}`);
      const wc = await readWorkingConfig(store, await current());
      const { x, env, shell } = prepareStep(wc.config, instr, args);
      if (changesFiles(x)) {
        done.push(await fileStep(b, await current(), x, args, env, shell, await stepImages(b, x)));
        continue;
      }
      await saveWorkingConfig(store, await current(), applyConfigChanges(wc, metadataChanges(x, shell)));
      done.push(`/bin/sh -c #(nop) ${x.source}`);
    }
    const wc = applyConfigChanges(await readWorkingConfig(store, await current()), finalChanges(req));
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
