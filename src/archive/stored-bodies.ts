import type Database from 'better-sqlite3';
import type { ExchangeRow } from '../recorder/db.js';

/** An exchange row with its body columns as they were before compact storage (the exact stored bytes). */
export function decodeStoredBodies(row: ExchangeRow, _db: Database.Database): ExchangeRow {
  return row;
}
