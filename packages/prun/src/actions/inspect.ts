// `prun inspect` (and `prun container inspect`): containers first, then images, as podman
// looks names up; the JSON array, or a Go template per object.
import { StoreError } from '@pkit/storage/errors';
import { Store } from '@pkit/storage/store';
import { compileTemplate, isTemplate } from '@pkit/cli-common/go-template';
import { inspectContainer } from './container-inspect.ts';
import { engine, findContainer } from './containers.ts';
import { inspectImage } from './image-inspect.ts';

export interface InspectRequest {
  root: string | undefined;
  names: string[];
  type: 'container' | 'image' | 'all';
  format?: string;
}

/** Prints what was found; a name found nowhere is an error (exit 125) after the rest. */
export async function inspectAction(req: InspectRequest): Promise<number> {
  let render: ((d: unknown) => string) | undefined;
  if (req.format !== undefined && req.format !== 'json') {
    if (!isTemplate(req.format)) throw new StoreError(`unknown --format "${req.format}": use json or a Go template such as {{.Id}}`, 'PKIT_BAD_INPUT');
    try {
      render = compileTemplate(req.format);
    } catch (err) {
      throw new StoreError((err as Error).message, 'PKIT_BAD_INPUT');
    }
  }
  const store = Store.open({ root: req.root });
  const found: unknown[] = [];
  const errors: string[] = [];
  try {
    const e = engine(store);
    for (const name of req.names) {
      let obj: unknown;
      if (req.type !== 'image') {
        try {
          obj = inspectContainer(e, await findContainer(e, name));
        } catch (err) {
          if (!(err instanceof StoreError)) throw err;
        }
      }
      if (obj === undefined && req.type !== 'container') {
        try {
          obj = await inspectImage(store, name);
        } catch (err) {
          if (!(err instanceof StoreError)) throw err;
        }
      }
      if (obj === undefined) {
        errors.push(req.type === 'all' ? `inspecting object: no such object: "${name}"` : `inspecting object: no such ${req.type} ${name}`);
        continue;
      }
      found.push(obj);
    }
  } finally {
    store.close();
  }
  if (render) {
    for (const o of found) {
      try {
        process.stdout.write(`${render(o)}\n`);
      } catch (err) {
        throw new StoreError((err as Error).message, 'PKIT_BAD_INPUT');
      }
    }
  } else {
    process.stdout.write(`${JSON.stringify(found, null, 4)}\n`);
  }
  for (const m of errors) process.stderr.write(`Error: ${m}\n`);
  return errors.length ? 125 : 0;
}
