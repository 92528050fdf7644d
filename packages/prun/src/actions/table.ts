// podman's tabwriter tables: left-aligned columns at least 12 wide, 2 spaces of padding.
import { PODMAN_TABLE, alignColumns } from '@pkit/cli-common/table';

export function formatTable(rows: string[][]): string {
  return alignColumns(rows, PODMAN_TABLE);
}
