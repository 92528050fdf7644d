// `pbuild build`: a Containerfile built stage by stage, one image per step, as buildah bud
// --layers. Each needed stage starts from its base (an image, an earlier stage's image, or
// scratch); a metadata instruction (ENV, LABEL, ...) makes an image with the changed config
// and an `empty_layer` history entry; RUN, COPY and ADD run in a working container on the
// parent image, whose upper dir is committed as the step's layer. Each step is looked up in
// the cache first (build-cache.ts). The last step's image gets the tags, --env, annotations
// and the output format.
import { existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { findImage, localImageName } from '@pkit/storage/image-lookup';
import { badInput as bad } from '@pkit/storage/errors';
import { readImageConfig } from '@pkit/runtime/container-run';
import { parseContainerfile, parseTrigger, parsePlatform, stageArgs, stagesForTarget, unusedBuildArgs, type ArgInstruction, type Instruction, type StageArgs } from '../containerfile/index.ts';
import { loadIgnore } from '../context/ignore.ts';
import { pullBaseImages } from './base-image.ts';
import { cacheable, readEntry, readsContext, stepKey, writeEntry } from './build-cache.ts';
import { contextRead, fileStep, stepImages } from './build-file-step.ts';
import { changesFiles, metadataChanges, prepareStep } from './build-instructions.ts';
import { exportImage, parseOutput } from './build-output.ts';
import { finalChanges, labelSteps, parseBuildArgs, readContainerfile, targetPlatform, type BuildRequest } from './build-request.ts';
import { oneLayerStage } from './build-squash.ts';
import { sayCommit, sayStep, stepAnnotations, withWorking, type Build } from './build-state.ts';
import { applyConfigChanges, initialWorkingConfig, readWorkingConfig, saveWorkingConfig, type WorkingConfig } from './config.ts';
import { scratchImage, writeImage } from './image-write.ts';
import { atInterrupt, handleInterrupts } from './interrupt.ts';
import { parseSecrets } from './secrets.ts';
import { baseAnnotations, commit, openStore } from './working.ts';

export { BuildRunError, readBuildArgFiles, timestamp, type BuildRequest } from './build-request.ts';

export async function buildAction(req: BuildRequest): Promise<string> {
  const stopHandling = handleInterrupts();
  try {
    if (req.context !== '-') {
      const contextDir = resolve(req.context);
      if (!existsSync(contextDir) || !statSync(contextDir).isDirectory()) throw bad(`build context ${req.context}: not a directory`);
      return await buildIn(req, contextDir);
    }
    // `pbuild build -`: the context is a tar (or a lone Containerfile) on stdin
    if (req.file === '-') throw bad('the build context and the Containerfile cannot both come from stdin: give -f FILE or a context directory');
    const { stdinContext } = await import('../context/stdin-context.ts');
    const sc = await stdinContext();
    const unregister = atInterrupt(() => sc.cleanup());
    try {
      return await buildIn(req, sc.dir);
    } finally {
      sc.cleanup();
      unregister();
    }
  } finally {
    stopHandling();
  }
}

async function buildIn(req: BuildRequest, contextDir: string): Promise<string> {
  // everything the command line says is checked before anything is pulled or made
  const output = req.output !== undefined ? parseOutput(req.output) : undefined;
  const secrets = parseSecrets(req.secrets ?? []);
  const { text, name, path } = readContainerfile(contextDir, req.file);
  const ignore = loadIgnore(contextDir, { ...(req.ignoreFile !== undefined ? { ignoreFile: req.ignoreFile } : {}), ...(path !== undefined ? { containerfile: path } : {}) });
  const buildArgs = parseBuildArgs(req.buildArgs);
  const target = targetPlatform(req);
  const cf = parseContainerfile(text, { file: name, buildArgs, platform: { target } });
  // --from IMAGE replaces the first stage's base (buildah's --from).
  if (req.from !== undefined) cf.stages[0]!.base = req.from === 'scratch' ? { kind: 'scratch' } : { kind: 'image', ref: req.from };
  const needed = stagesForTarget(cf, req.target);
  cf.stages[needed.at(-1)!]!.instructions.push(...labelSteps(req.labels));
  const bases = needed.flatMap((i) => {
    const st = cf.stages[i]!;
    return st.base.kind === 'image' ? [{ ref: st.base.ref, platform: st.platform !== undefined ? parsePlatform(st.platform) : target }] : [];
  });
  await pullBaseImages(bases, req);
  const store = openStore(req.root);
  const scratch = mkdtempSync(join(tmpdir(), 'pbuild-'));
  const unregister = atInterrupt(() => rmSync(scratch, { recursive: true, force: true }));
  const b: Build = {
    req,
    store,
    cf,
    buildArgs,
    contextDir,
    ignore,
    scratch,
    stageImage: new Map(),
    stageScope: new Map(),
    say: (line) => {
      // with the image's files going to stdout (-o -), the progress goes to stderr
      if (!req.quiet) (output?.dest === '-' ? process.stderr : process.stdout).write(`${line}\n`);
    },
    prefix: '',
    step: 0,
    stages: needed.length,
    baseAnnotations: {},
    target,
    secrets,
    total: 0,
  };
  try {
    let finalId = '';
    for (const [pos, idx] of needed.entries()) finalId = await buildStage(b, idx, pos);
    const id = finalId.slice('sha256:'.length);
    if (output) await exportImage(store, finalId, output);
    for (const t of req.tags.slice(1)) await store.images.tag(localImageName(t), finalId as never);
    b.say(`--> ${id.slice(0, 11)}`);
    const unused = unusedBuildArgs(buildArgs, [...cf.globalArgs, ...needed.flatMap((i) => cf.stages[i]!.instructions.filter((x): x is ArgInstruction => x.kind === 'ARG'))]);
    if (unused.length) b.say(`[Warning] one or more build args were not consumed: [${unused.join(' ')}]`);
    for (const t of req.tags) b.say(`Successfully tagged ${localImageName(t)}`);
    if (req.iidfile !== undefined) writeFileSync(req.iidfile, finalId);
    return id;
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    unregister();
    store.close();
  }
}

/** One stage: its steps from its base image; returns the image it ends with. */
async function buildStage(b: Build, idx: number, pos: number): Promise<string> {
  const stage = b.cf.stages[idx]!;
  const lastStage = pos === b.stages - 1;
  b.prefix = b.stages > 1 ? `[${pos + 1}/${b.stages}] ` : '';
  b.step = 0;
  b.total = 1 + stage.instructions.length;
  sayStep(b, stage.from.source);
  const inherited = stage.base.kind === 'stage' ? b.stageScope.get(stage.base.index) : undefined;
  let image: string;
  let comment: string;
  // the manifest names an image base, as buildah's; scratch and stages are not named
  b.baseAnnotations = {};
  if (stage.base.kind === 'scratch') {
    image = await scratchImage(b.store, stage.platform !== undefined ? parsePlatform(stage.platform) : b.target);
    comment = 'FROM scratch';
  } else if (stage.base.kind === 'stage') {
    image = b.stageImage.get(stage.base.index)!;
    comment = `FROM ${image.slice('sha256:'.length, 'sha256:'.length + 12)}`;
  } else {
    const base = await findImage(b.store, stage.base.ref);
    image = base.id;
    comment = `FROM ${localImageName(stage.base.ref)}`;
    b.baseAnnotations = baseAnnotations(stage.base.ref, base);
  }
  const args = stageArgs(b.cf.globalValues, b.buildArgs, inherited);
  // The base image's ONBUILD triggers run first, as steps of their own (buildah counts them
  // in the total); they are not passed on to this stage's images.
  const triggers = ((await readImageConfig(b.store, image as never)).config?.OnBuild ?? []).map((t) => parseTrigger(t, { file: `ONBUILD of ${stage.from.image}` }));
  b.total += triggers.length;
  const steps: Instruction[] = [...triggers, ...stage.instructions];
  if (lastStage && steps.length === 0) {
    image = await bareStage(b, image, comment, stage.from.source);
  } else if (steps.length > 0 && (b.req.layers === false || (lastStage && b.req.squash))) {
    image = await oneLayerStage(b, image, comment, steps, args, lastStage);
  } else {
    for (const [i, instr] of steps.entries()) {
      sayStep(b, instr.source);
      const final = lastStage && i === steps.length - 1;
      image = await buildStep(b, { parent: image, comment, instr, args, final, dropOnBuild: i === 0 && triggers.length > 0 });
      comment = `FROM ${image.slice('sha256:'.length, 'sha256:'.length + 12)}`;
      if (!final) b.say(`--> ${image.slice('sha256:'.length, 'sha256:'.length + 11)}`);
    }
  }
  b.stageImage.set(idx, image);
  b.stageScope.set(idx, args);
  return image;
}

interface Step {
  /** the image the step starts from */
  parent: string;
  /** its history comment: "FROM <parent>" */
  comment: string;
  instr: Instruction;
  args: StageArgs;
  /** the build's last step: it gets the tag, --env, the annotations and the format */
  final: boolean;
  /** the stage's first step after its base's ONBUILD triggers ran: its image has none */
  dropOnBuild: boolean;
}

/** One instruction: from the cache, or run; returns the image it made. */
async function buildStep(b: Build, s: Step): Promise<string> {
  const { store, req } = b;
  const parentConfig = await readImageConfig(store, s.parent as never);
  const { x, env, shell } = prepareStep(parentConfig.config, s.instr, s.args);
  const images = await stepImages(b, x);
  // what the step's image gets besides the instruction: the last step's format, --env edits
  // and --annotation (intermediate images keep Docker's fields for the steps after them)
  const format = s.final ? req.format ?? 'oci' : 'docker';
  const timestamp = req.timestamp;
  const annotations = stepAnnotations(b, s.final);
  const finalEdits = s.final ? finalChanges(req) : [];
  const output = {
    timestamp: timestamp ?? null,
    ...(x.kind === 'RUN' ? { network: x.network ?? req.network ?? 'default' } : {}),
    dropOnBuild: s.dropOnBuild,
    annotations: annotations ?? null,
    ...(s.final ? { format, edits: finalEdits } : {}),
  };
  // --layers=false neither reads nor writes the cache: no key to compute
  const key = cacheable(x) && req.layers !== false
    ? stepKey({
        parent: s.parent,
        instruction: x,
        ...(x.kind === 'RUN' || x.kind === 'ARG' ? { args: new Map([...s.args.values, ...s.args.proxyEnv()]) } : {}),
        ...(readsContext(x) ? { context: await contextRead(b, x) } : {}),
        ...(images.size ? { images: [...images].sort(([a], [b]) => a.localeCompare(b)) } : {}),
        output,
      })
    : undefined;
  const hit = key !== undefined && !req.noCache ? readEntry(store.paths.root, key) : undefined;
  if (hit && (await store.images.get(hit.image as never))) {
    b.say(`--> Using cache ${hit.image.slice('sha256:'.length)}`);
    if (s.final) await finish(b, hit.image);
    return hit.image;
  }
  const configEdits = (wc: WorkingConfig): WorkingConfig => {
    const next = applyConfigChanges(wc, finalEdits);
    if (s.dropOnBuild) delete next.config.OnBuild;
    return next;
  };
  let image: string;
  if (changesFiles(x)) {
    image = await withWorking(b, s.parent, async (rec) => {
      const createdBy = await fileStep(b, rec, x, s.args, env, shell, images);
      const after = (await store.containers.get(rec.id)) ?? rec;
      const saved = await saveWorkingConfig(store, after, configEdits(await readWorkingConfig(store, after)));
      if (s.final) sayCommit(b);
      const made = await commit(store, saved, s.final ? req.tags[0] : undefined, {
        createdBy,
        comment: s.comment,
        format,
        ...(timestamp !== undefined ? { timestamp } : {}),
        ...(annotations ? { annotations } : {}),
      });
      return made.id;
    });
  } else {
    const wc = configEdits(applyConfigChanges(initialWorkingConfig(parentConfig), metadataChanges(x, shell)));
    if (s.final) sayCommit(b);
    const made = await store.write(() =>
      writeImage(store, {
        parent: s.parent,
        wc,
        history: { createdBy: `/bin/sh -c #(nop) ${x.source}`, comment: s.comment },
        format,
        ...(timestamp !== undefined ? { timestamp } : {}),
        ...(annotations ? { annotations } : {}),
        ...(s.final && req.tags[0] !== undefined ? { tag: req.tags[0] } : {}),
      }),
    );
    image = made.id;
  }
  if (key !== undefined) writeEntry(store.paths.root, key, { image });
  return image;
}



/** The build's output is an image already made (a cached last step, a bare base): tagged. */
async function finish(b: Build, image: string): Promise<void> {
  sayCommit(b);
  if (b.req.tags[0] !== undefined) await b.store.images.tag(localImageName(b.req.tags[0]), image as never);
}

/**
 * A last stage that is only FROM: its base is the output (podman tags it), unless --label,
 * --env, --annotation, --timestamp or --format docker ask for changes: then an image with them.
 */
async function bareStage(b: Build, base: string, comment: string, from: string): Promise<string> {
  const { req, store } = b;
  const edits = finalChanges(req);
  const annotations = stepAnnotations(b, true);
  if (!edits.length && !req.annotations?.length && req.timestamp === undefined && req.format !== 'docker') {
    await finish(b, base);
    return base;
  }
  sayCommit(b);
  const made = await store.write(async () =>
    writeImage(store, {
      parent: base,
      wc: applyConfigChanges(initialWorkingConfig(await readImageConfig(store, base as never)), edits),
      history: { createdBy: `/bin/sh -c #(nop) ${from}`, comment },
      format: req.format ?? 'oci',
      ...(req.timestamp !== undefined ? { timestamp: req.timestamp } : {}),
      ...(annotations ? { annotations } : {}),
      ...(req.tags[0] !== undefined ? { tag: req.tags[0] } : {}),
    }),
  );
  return made.id;
}







