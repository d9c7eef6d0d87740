/** Prints rows as a plain-text table (console.table quotes strings and adds an index column). */
export function printTable(
  title: string,
  rows: Array<Record<string, string>>,
  headers: Record<string, string> = {},
): void {
  console.log(`\n${title}`);
  if (rows.length === 0) {
    console.log('  (none)');
    return;
  }
  const columns = Object.keys(rows[0]);
  const titles = columns.map((column) => headers[column] ?? column);
  const widths = columns.map((column, i) =>
    Math.max(
      titles[i].length,
      ...rows.map((row) => (row[column] ?? '').length),
    ),
  );
  const line = (cells: string[]) =>
    '  ' +
    cells
      .map((cell, i) => cell.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  console.log(line(titles));
  console.log(line(widths.map((width) => '-'.repeat(width))));
  for (const row of rows) console.log(line(columns.map((c) => row[c] ?? '')));
}
