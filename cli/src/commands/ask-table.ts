/** Renders rows as an aligned text table with upper-case headers; `(no rows)` when empty. */
export function renderTable(rows: readonly Record<string, unknown>[], columns?: readonly string[]): string {
  const first = rows[0];
  if (!first) return '(no rows)';
  const cols = columns ?? Object.keys(first);
  const cell = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    if (Array.isArray(v)) return v.map(cell).join(', ');
    if (typeof v === 'object') return JSON.stringify(v);
    // One line per row: newlines inside values would break the columns.
    return String(v).replace(/\s*\n\s*/g, ' ');
  };
  const body = rows.map((r) => cols.map((c) => cell(r[c])));
  const width = cols.map((c, i) => Math.max(c.length, ...body.map((b) => (b[i] ?? '').length)));
  const line = (cells: readonly string[]) => cells.map((v, i) => v.padEnd(width[i] ?? 0)).join('  ').trimEnd();
  return [line(cols.map((c) => c.toUpperCase())), ...body.map(line)].join('\n');
}
