// Go tabwriter-style tables, as podman and buildah print them: left-aligned columns, each as wide
// as its widest cell plus padding (at least minWidth), the last column unpadded.

export interface TableStyle {
  minWidth: number;
  padding: number;
}

/** podman's tables: columns at least 12 wide, 2 spaces of padding. */
export const PODMAN_TABLE: TableStyle = { minWidth: 12, padding: 2 };
/** buildah's tables (images, containers): no minimum, 3 spaces of padding. */
export const BUILDAH_TABLE: TableStyle = { minWidth: 0, padding: 3 };

export function alignColumns(rows: string[][], style: TableStyle): string {
  if (!rows.length) return '';
  const columns = Math.max(...rows.map((r) => r.length));
  const widths = Array.from({ length: columns }, (_, c) => Math.max(...rows.map((r) => r[c]?.length ?? 0)));
  return rows
    .map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(Math.max(style.minWidth, widths[c]! + style.padding)))).join('').trimEnd())
    .join('\n');
}
