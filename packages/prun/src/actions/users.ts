// `-u user[:group]` for `prun exec`: names looked up in the container's own /etc/passwd and
// /etc/group, i.e. its upper dir over the image's layers (the overlay root's options).
import { readContainerSpec } from '@pkit/runtime/bundle';
import { resolveContainerUser } from '@pkit/runtime/image-user';
import { type Spec } from '@pkit/runtime/oci-spec';
import { type ProcessUser } from '@pkit/runtime/spec';
import type { Engine } from './containers.ts';

/** The overlay root's dirs, top first: upper, then the lower layers. */
function containerLayers(spec: Spec): string[] {
  const root = spec.mounts?.[0];
  if (root?.type !== 'overlay') return [];
  const opt = (k: string) => root.options?.find((o) => o.startsWith(`${k}=`))?.slice(k.length + 1);
  return [opt('upperdir'), ...(opt('lowerdir') ?? '').split(':')].filter((d): d is string => !!d);
}

export async function resolveUser(e: Engine, id: string, userSpec: string): Promise<ProcessUser> {
  const spec = readContainerSpec(e.store, id);
  const u = await resolveContainerUser(containerLayers(spec), userSpec, { idmap: { userns: (spec.linux?.uidMappings?.length ?? 0) > 0, gidMappings: spec.linux?.gidMappings ?? [] } });
  for (const w of u.warnings) process.stderr.write(`${w}\n`);
  return u.user;
}
