import { existsSync } from 'node:fs';
import { paths } from '../config.js';
import { SqliteArchiveReader } from '../archive/sqlite-reader.js';
import { assertKnownSchema, openArchive } from '../recorder/db.js';
import { ConfigError } from '../config-error.js';
import type { PriceOverrides } from '../cost/override-match.js';
import { priceExchange } from '../cost/price-exchange.js';
import { loadPriceOverrides } from '../cost/price-overrides.js';
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
export function sessionReading(reader: SqliteArchiveReader, overrides?: PriceOverrides): SessionReading {
  return { messagesOf: (id) => reader.wsMessages(id), price: (input) => priceExchange(input, overrides) };
}

/** The `--prices` file's overrides (pricesOption); a file that does not load: one line naming it, exit 1. */
export function pricesFlag(file: string | undefined): PriceOverrides | undefined {
  if (file === undefined) return undefined;
  try {
    return loadPriceOverrides(file);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`llmtap: --prices ${err.message}\n`);
    process.exit(1);
  }
}

/**
 * The session a typed id or unique prefix names (as `show` reads it); otherwise one line
 * saying why (none, several, an exchange's id) on stderr, exit code 1, and undefined.
 */
export function resolveSession(reader: SqliteArchiveReader, typed: string, exchangeHint: string): string | undefined {
  const found = reader.resolve(typed);
  if (found?.kind === 'session') return found.id;
  const problem = !found ? `no session "${typed}"`
    : found.kind === 'ambiguous' ? ambiguous(typed, found.matches)
    : `"${typed}" is an exchange, not a session (${exchangeHint})`;
  process.stderr.write(`llmtap: ${problem}\n`);
  process.exitCode = 1;
  return undefined;
}

/** A prefix that names several ids: the first five (the reader looks at six per kind), and what to do. */
export function ambiguous(typed: string, matches: readonly string[]): string {
  const more = matches.length > 5 ? ', …' : '';
  return `"${typed}" matches several: ${matches.slice(0, 5).join(', ')}${more} (type more of the id)`;
}
