// A stage built in one working container and committed once: `pbuild build --squash` (the
// last stage) and `--layers=false` (every stage), as buildah does without layers.
import type { Instruction, StageArgs } from '../containerfile/index.ts';
import { changesFiles, metadataChanges, prepareStep } from './build-instructions.ts';
import { finalChanges } from './build-request.ts';
import { sayCommit, sayStep, stepAnnotations, withWorking, type Build } from './build-state.ts';
import { fileStep, stepImages } from './build-file-step.ts';
import { applyConfigChanges, readWorkingConfig, saveWorkingConfig } from './config.ts';
import { commit } from './working.ts';

/**
 * The stage's steps all run in one working container and are committed as one layer over its
 * base (podman build --squash, or --layers=false); each step still has its history entry. No
 * step is taken from the cache or recorded in it. Only the build's last stage gets the tag,
 * --label/--env, the annotations and the format.
 */
export async function oneLayerStage(b: Build, base: string, comment: string, steps: Instruction[], args: StageArgs, last: boolean): Promise<string> {
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
      sayStep(b, instr.source);
      const wc = await readWorkingConfig(store, await current());
      const { x, env, shell } = prepareStep(wc.config, instr, args);
      if (changesFiles(x)) {
        done.push(await fileStep(b, await current(), x, args, env, shell, await stepImages(b, x)));
        continue;
      }
      await saveWorkingConfig(store, await current(), applyConfigChanges(wc, metadataChanges(x, shell)));
      done.push(`/bin/sh -c #(nop) ${x.source}`);
    }
    const wc = applyConfigChanges(await readWorkingConfig(store, await current()), last ? finalChanges(req) : []);
    const saved = await saveWorkingConfig(store, await current(), wc);
    if (last) sayCommit(b);
    const annotations = stepAnnotations(b, last);
    const made = await commit(store, saved, last ? req.tags[0] : undefined, {
      createdBy: done.at(-1) ?? `/bin/sh -c #(nop) FROM ${comment.slice('FROM '.length)}`,
      comment,
      folded: done.slice(0, -1),
      // an earlier stage keeps SHELL, ONBUILD and HEALTHCHECK for the stages built on it
      format: last ? req.format ?? 'oci' : 'docker',
      ...(req.timestamp !== undefined ? { timestamp: req.timestamp } : {}),
      ...(annotations ? { annotations } : {}),
    });
    return made.id;
  });
}
