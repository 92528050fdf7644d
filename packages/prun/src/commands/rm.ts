import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';
import type { Store } from '@pkit/storage';

export default class Rm extends BaseCommand {
  static override summary = 'Remove one or more containers';
  static override description = 'Prints the full ID of each removed container on stdout (as podman).';
  static override examples = ['<%= config.bin %> rm mycontainer', '<%= config.bin %> rm -a', '<%= config.bin %> rm -f 3f2a1b'];
  static override strict = false;
  static override args = {
    container: Args.string({ required: false, ignoreStdin: true, description: 'container name, ID or unique ID prefix' }),
  };
  static override flags = {
    force: Flags.boolean({ char: 'f', summary: 'Remove running containers too' }),
    all: Flags.boolean({ char: 'a', summary: 'Remove all containers' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Rm);
    const queries = argv as string[];
    if (flags.all && queries.length) this.error('--all and explicit container names or IDs cannot be used together', { exit: 125 });
    if (!flags.all && !queries.length) this.error('"prun rm" requires at least one CONTAINER, or --all (see --help)', { exit: 125 });
    const { Store, StoreError } = await import('@pkit/storage');
    const store = Store.open({ root: flags.root });
    const errors: string[] = [];
    try {
      const records = flags.all ? await store.containers.list() : [];
      for (const q of queries) {
        try {
          records.push(await store.containers.resolve(q));
        } catch (err) {
          if (!(err instanceof StoreError)) throw err;
          errors.push(err.message);
        }
      }
      const seen = new Set<string>();
      for (const rec of records) {
        if (seen.has(rec.id)) continue;
        seen.add(rec.id);
        if (rec.state === 'running' && !flags.force) {
          errors.push(`cannot remove container ${rec.id} as it is running - running or paused containers cannot be removed without force`);
          continue;
        }
        await deleteContainer(store, rec.id);
        this.log(rec.id);
      }
    } finally {
      store.close();
    }
    // As podman: every failure is reported, the last one as the command's error.
    for (const e of errors.slice(0, -1)) process.stderr.write(`Error: ${e}\n`);
    if (errors.length) this.error(errors.at(-1)!, { exit: 125 });
  }
}

/**
 * Removes a container's record and its directories; the overlay upper dir may hold files of
 * subordinate owners, removed then as root of the user namespace through pkit-runtime.
 */
export async function deleteContainer(store: Store, id: string): Promise<void> {
  const { existsSync } = await import('node:fs');
  const { fileURLToPath } = await import('node:url');
  const { removeContainer } = await import('@pkit/runtime');
  // The helper built in this repository, from src/commands/ and from the bundle in dist/.
  const helper = ['../../../../native/build/Release/pkit-runtime', '../../../native/build/Release/pkit-runtime']
    .map((p) => fileURLToPath(new URL(p, import.meta.url)))
    .find((p) => existsSync(p));
  await removeContainer(store, id, helper !== undefined ? { helper } : {});
}
