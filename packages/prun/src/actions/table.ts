// podman's tabwriter tables: left-aligned columns at least 12 wide, 2 spaces of padding.

export function formatTable(rows: string[][]): string {
  if (!rows.length) return '';
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(Math.max(12, widths[c]! + 2)))).join('').trimEnd()).join('\n');
}
