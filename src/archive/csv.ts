import { lazyRequire } from '../lazy-require.js';

// Loaded by the first CSV written: `stats`, `export` and the web UI load this module for their other formats too.
const csv = lazyRequire<typeof import('csv-stringify/sync')>('csv-stringify/sync');

/** How cells are written: a formula-like start made text, booleans as true/false. */
const CELLS = { escape_formulas: true, cast: { boolean: (b: boolean) => String(b) } };

/**
 * Records as CSV for a spreadsheet (`stats --csv`, the web UI's usage download): one
 * header line, then one line per record. Nested objects become columns joined by `_` (`tokens: {input}` → `tokens_input`), the
 * columns the union of every record's in order of first appearance; `shape` gives the
 * header when there are no records. A cell that starts like a formula (`=`, `+`, `-`,
 * `@`: model names and users come from clients) is prefixed with `'` so a spreadsheet
 * shows it as text.
 */
export function csvText(records: readonly Record<string, unknown>[], shape: Record<string, unknown>): string {
  const flat = records.map((r) => flatten(r));
  const columns = [...new Set((flat.length > 0 ? flat : [flatten(shape)]).flatMap((record) => Object.keys(record)))];
  return csv().stringify(flat.map((r) => columns.map((c) => r[c] ?? null)), { ...CELLS, header: true, columns });
}

/** One CSV line without its line break, cells as csvText writes them (`export --format csv` streams a row at a time). */
export function csvLine(values: readonly unknown[]): string {
  return csv().stringify([values], { ...CELLS, eof: false });
}


function flatten(value: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [key, v] of Object.entries(value)) {
    const name = prefix ? `${prefix}_${key}` : key;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, name, out);
    else out[name] = Array.isArray(v) ? v.join(' ') : v;
  }
  return out;
}
