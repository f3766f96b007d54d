import type Database from 'better-sqlite3';
import { BodyPartStore } from '../recorder/body-parts.js';
import type { ExchangeRow } from '../recorder/db.js';

/** One part store per connection, so its cache of recently read parts serves a whole export or session. */
const stores = new WeakMap<Database.Database, BodyPartStore>();

/**
 * An exchange row with its body columns back to the exact bytes that were stored
 * (compact storage undone: parts joined, compression removed). Rows from before
 * schema 6, and small bodies, have a null layout and come back as they are.
 */
export function decodeStoredBodies(row: ExchangeRow, db: Database.Database): ExchangeRow {
  const requestLayout = row.request_body_layout ?? null;
  const responseLayout = row.response_body_layout ?? null;
  if (requestLayout === null && responseLayout === null) return row;
  let store = stores.get(db);
  if (!store) stores.set(db, (store = new BodyPartStore(db)));
  return {
    ...row,
    request_body: row.request_body === null ? null : store.decode(row.request_body, requestLayout),
    request_body_layout: null,
    response_body: row.response_body === null ? null : store.decode(row.response_body, responseLayout),
    response_body_layout: null,
  };
}
