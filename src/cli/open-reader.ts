import { existsSync } from 'node:fs';
import { paths } from '../config.js';
import { SqliteArchiveReader } from '../archive/sqlite-reader.js';
import { assertKnownSchema, openArchive } from '../recorder/db.js';
import { priceExchange } from '../cost/price-exchange.js';
import type { SessionReading } from '../sessions/turns.js';

/**
 * The archive for a read-side command. Brings an older archive's schema up to date
 * first (the same migrations the proxy runs), so reading an archive recorded by an
 * earlier llmtap just works. Exits with one line when there is no archive.
 */
export function openReader(home: string): SqliteArchiveReader {
  const file = existingArchive(home);
  assertKnownSchema(file);
  openArchive(file).close();
  return new SqliteArchiveReader(file);
}

/** The archive's path in `home`; without one, one line and exit 1. */
export function existingArchive(home: string): string {
  const file = paths(home).archive;
  if (!existsSync(file)) {
    process.stderr.write(`llmtap: no archive at ${file} (start the proxy first, or pass --home)\n`);
    process.exit(1);
  }
  return file;
}

/** JSON for --json output: one document, 2-space indented, newline-terminated. */
export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/**
 * How `show` and `replay` read a Codex session request by request: its message log, and
 * the price data to share its cost among its requests (loaded only when a session of
 * several requests is shown).
 */
export function sessionReading(reader: SqliteArchiveReader): SessionReading {
  return { messagesOf: (id) => reader.wsMessages(id), price: (input) => priceExchange(input) };
}
