import { Args, Flags } from '@oclif/core';
import { BaseCommand } from '@pkit/cli-common';
import type { Store } from '@pkit/storage';

export default class Rm extends BaseCommand {
  static override summary = 'Remove one or more containers';
  static override description = 'Prints the full ID of each removed container on stdout (as podman). With --force a running container is killed (SIGKILL) first, at once.';
  static override examples = ['<%= config.bin %> rm mycontainer', '<%= config.bin %> rm -a', '<%= config.bin %> rm -f 3f2a1b'];
  static override strict = false;
  static override args = {
    container: Args.string({ required: false, ignoreStdin: true, description: 'container name, ID or unique ID prefix' }),
  };
  static override flags = {
    force: Flags.boolean({ char: 'f', summary: 'Remove running containers too' }),
    all: Flags.boolean({ char: 'a', summary: 'Remove all containers' }),
    ignore: Flags.boolean({ char: 'i', summary: 'Ignore errors when a container does not exist' }),
    volumes: Flags.boolean({ char: 'v', summary: 'Remove the anonymous volumes of the container too' }),
  };

  async run(): Promise<void> {
    const { argv, flags } = await this.parse(Rm);
    const queries = argv as string[];
    if (flags.all && queries.length) this.error('--all and explicit container names or IDs cannot be used together', { exit: 125 });
    if (!flags.all && !queries.length) this.error('"prun rm" requires at least one CONTAINER, or --all (see --help)', { exit: 125 });
    const { eachContainer, reportFailures } = await import('../actions/each-container.ts');
    const { removeRecord } = await import('../actions/containers.ts');
    let errors = await eachContainer({ root: flags.root, queries, all: flags.all }, async (e, rec) => {
      await removeRecord(e, rec, flags.force, { volumes: flags.volumes });
      return rec.id;
    });
    if (flags.ignore) errors = errors.filter((m) => !/^no container with name or ID/.test(m));
    const last = reportFailures(errors);
    if (last !== undefined) this.error(last, { exit: 125 });
  }
}

/** Removes a container, killing it first when it runs (rmi -f, prune). */
export async function deleteContainer(store: Store, id: string): Promise<void> {
  const { engine, refresh, removeRecord } = await import('../actions/containers.ts');
  const e = engine(store);
  const rec = await store.containers.get(id);
  const now = rec && (await refresh(e, rec));
  if (now) await removeRecord(e, now, true);
}
