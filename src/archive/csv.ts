import { stringify } from 'csv-stringify/sync';

/**
 * Records as CSV (`stats --csv`, the web UI's usage download) for a spreadsheet, one header line then one line per record.
 * Nested objects become columns joined by `_` (`tokens: {input}` → `tokens_input`), the
 * columns the union of every record's in order of first appearance; `shape` gives the
 * header when there are no records. A cell that starts like a formula (`=`, `+`, `-`,
 * `@`: model names and users come from clients) is prefixed with `'` so a spreadsheet
 * shows it as text.
 */
export function csvText(records: readonly Record<string, unknown>[], shape: Record<string, unknown>): string {
  const flat = records.map((r) => flatten(r));
  const columns: string[] = [];
  const seen = new Set<string>();
  for (const record of flat.length > 0 ? flat : [flatten(shape)]) {
    for (const key of Object.keys(record)) if (!seen.has(key)) seen.add(key) && columns.push(key);
  }
  return stringify(flat.map((r) => columns.map((c) => r[c] ?? null)), { header: true, columns, escape_formulas: true, cast: { boolean: (b) => String(b) } });
}

function flatten(value: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [key, v] of Object.entries(value)) {
    const name = prefix ? `${prefix}_${key}` : key;
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flatten(v as Record<string, unknown>, name, out);
    else out[name] = Array.isArray(v) ? v.join(' ') : v;
  }
  return out;
}
