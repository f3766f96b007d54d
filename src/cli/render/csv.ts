import { csvText } from '../../archive/csv.js';

/** `--csv`: the records on stdout (archive/csv.ts says how). */
export function printCsv(records: readonly Record<string, unknown>[], shape: Record<string, unknown>): void {
  process.stdout.write(csvText(records, shape));
}
