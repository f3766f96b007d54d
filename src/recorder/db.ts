import { closeSync, existsSync, mkdirSync, openSync, rmSync, statSync, type BigIntStats } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import { BodyPartStore } from './body-parts.js';
import { MIGRATIONS } from './migrations.js';
import { placeExchange, type ExchangeSummary } from '../sessions/group.js';
import { isAside, placeAside, type AsidePlace } from '../sessions/group-aside.js';
import { SqliteGroupIndex } from '../sessions/group-index.js';
import { SessionRollup } from './session-rollup.js';
import { StagedGroupIndex } from '../sessions/staged-group-index.js';
import { EXCHANGE_COLUMNS, TUNNEL_COLUMNS, WS_MESSAGE_COLUMNS, type ExchangeRow, type TunnelRow, type WsMessageRow } from './row-types.js';

export { EXCHANGE_COLUMNS, TUNNEL_COLUMNS, WS_MESSAGE_COLUMNS, type ExchangeRow, type TunnelRow, type WsMessageRow };

export interface Archive {
  readonly db: Database.Database;
  /**
   * Writes all rows in one transaction: all of them land or none do. With a summary
   * per row, each is first placed in its session and thread (session_id, thread_id,
   * turn set on the row) and the session totals are updated in the same transaction.
   */
  insertExchanges(rows: ExchangeRow[], summaries?: readonly (ExchangeSummary | undefined)[]): void;
  insertTunnels(rows: TunnelRow[]): void;
  insertWsMessages(rows: WsMessageRow[]): void;
  /** Folds the WAL back into the main file and truncates it (on shutdown). */
  checkpoint(): void;
  close(): void;
  /**
   * True when the path no longer names the file this archive opened (deleted, or
   * replaced by another file). SQLite keeps writing to the unlinked file, so without
   * this check everything recorded afterwards would vanish silently. One stat().
   */
  replaced?(): boolean;
  /** Throws (SQLITE_READONLY, SQLITE_BUSY, …) unless a write transaction can be begun and written. */
  assertWritable?(): void;
  /** A new connection to the same path with the same options (creating the file if it is gone). */
  reopen?(): Archive;
}

export interface ArchiveOptions {
  /**
   * How long a write waits for another connection's lock before failing with
   * SQLITE_BUSY, in ms. The wait blocks the thread that writes (better-sqlite3 is
   * synchronous): the Recorder's writer thread, not the event loop.
   */
  busyTimeoutMs?: number;
  /**
   * Caps the database at this many pages (PRAGMA max_page_count, per connection),
   * applied after migrations; writes beyond it fail with SQLITE_FULL, as on a full
   * disk. For tests; a value below the current size means "no growth at all".
   */
  maxPageCount?: number;
  /** Opens the file read-only, as SQLite itself does when the process may not write it. */
  readonly?: boolean;
}

/**
 * better-sqlite3 waits synchronously, so a lock held by another process stalls the
 * writer thread for up to this long per batch (and the event loop, for an archive
 * written on the calling thread); keep it short and let the fail-open path count the
 * loss instead of letting records pile up behind the lock.
 */
export const DEFAULT_BUSY_TIMEOUT_MS = 200;

export { MIGRATIONS };

export const SCHEMA_VERSION = MIGRATIONS.length;

/**
 * Opens (creating if needed) the archive and brings its schema up to date.
 * Throws when the file was written by a newer llmtap, rather than guessing.
 */
export function openArchive(file: string, options: ArchiveOptions = {}): Archive {
  const inMemory = file === ':memory:' || file === '';
  if (!inMemory && !options.readonly) {
    // The archive holds people's prompts: keep a directory we create private.
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    // Create the file owner-only before SQLite does (umask would make it world-readable);
    // SQLite gives the -wal and -shm files the main file's permissions.
    if (!existsSync(file)) {
      // A -wal or -shm at the path without its main file belongs to an archive that was
      // deleted: closing removes them only on the last connection, and another process
      // (`llmtap tail`, an export, the sqlite3 shell) may still have had it open. SQLite
      // would read them as the new file's own (SQLITE_IOERR_SHORT_READ on every write).
      for (const stale of [`${file}-wal`, `${file}-shm`]) rmSync(stale, { force: true });
      closeSync(openSync(file, 'a', 0o600));
    }
  }

  const db = new Database(file, { readonly: options.readonly ?? false, fileMustExist: options.readonly ?? false });
  let opened: BigIntStats | undefined; // identity of the file we opened, for replaced()
  try {
    if (!inMemory) opened = statSync(file, { bigint: true });
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS))}`);
    db.pragma('foreign_keys = ON');
    migrate(db, file);
    if (options.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.max(1, Math.floor(options.maxPageCount))}`);
  } catch (err) {
    db.close();
    throw err;
  }

  const insertExchange = db.prepare(insertSql('exchanges', EXCHANGE_COLUMNS));
  const insertTunnel = db.prepare(insertSql('tunnels', TUNNEL_COLUMNS));
  // Positional parameters: binding 38 of them by name costs ~8 µs more per row.
  // Opened after the migrations: its statements need the body_parts table.
  const bodies = new BodyPartStore(db);
  const groups = new SqliteGroupIndex(db);
  const rollup = new SessionRollup(db);
  const saved = db.transaction((work: () => void) => work());
  const insertExchanges = db.transaction((rows: ExchangeRow[], summaries: readonly (ExchangeSummary | undefined)[] | undefined) => {
    if (summaries) groupRows(rows, summaries, groups, rollup, saved);
    for (const row of rows) {
      const stored = compactBodies(row, bodies);
      insertExchange.run(EXCHANGE_COLUMNS.map((c) => stored[c]));
    }
  });
  const insertTunnels = db.transaction((rows: TunnelRow[]) => {
    for (const row of rows) insertTunnel.run(TUNNEL_COLUMNS.map((c) => row[c]));
  });
  const insertWsMessage = db.prepare(insertSql('ws_messages', WS_MESSAGE_COLUMNS));
  const insertWsMessages = db.transaction((rows: WsMessageRow[]) => {
    for (const row of rows) insertWsMessage.run(WS_MESSAGE_COLUMNS.map((c) => row[c]));
  });

  return {
    db,
    insertExchanges: (rows, summaries) => {
      // IMMEDIATE: storing bodies reads body_parts before it writes, and a read transaction
      // that must then become a writer gets SQLITE_BUSY at once instead of waiting the busy timeout.
      if (rows.length > 0) insertExchanges.immediate(rows, summaries);
    },
    insertTunnels: (rows) => {
      if (rows.length > 0) insertTunnels(rows);
    },
    insertWsMessages: (rows) => {
      if (rows.length > 0) insertWsMessages(rows);
    },
    checkpoint: () => {
      db.pragma('wal_checkpoint(TRUNCATE)');
    },
    close: () => {
      if (db.open) db.close();
    },
    replaced: () => {
      if (!opened) return false;
      let now: BigIntStats | undefined;
      try {
        now = statSync(file, { bigint: true, throwIfNoEntry: false });
      } catch (err) {
        // A directory on the path is gone or is now a file; anything else (EACCES on a
        // directory made unreadable, say) says nothing about the file, which may still be fine.
        return (err as NodeJS.ErrnoException).code === 'ENOTDIR';
      }
      return !now || now.ino !== opened.ino || now.dev !== opened.dev;
    },
    assertWritable: () => {
      // BEGIN IMMEDIATE takes the write lock (SQLITE_BUSY if held); rewriting the
      // version proves the connection may write (SQLITE_READONLY if not). Rolled back.
      const version = db.pragma('user_version', { simple: true }) as number;
      db.exec('BEGIN IMMEDIATE');
      try {
        db.pragma(`user_version = ${version}`);
      } finally {
        if (db.inTransaction) db.exec('ROLLBACK');
      }
    },
    reopen: () => openArchive(file, options),
  };
}

/**
 * Throws when `file` exists and was written by a newer llmtap. Checked at start: an
 * archive that is merely unavailable (locked, read-only, unreadable) is a fault the
 * proxy rides out, but a newer schema will never become writable by this version,
 * and starting anyway would relay traffic with nothing recorded. Anything else that
 * goes wrong reading the version is left to the recorder, which reports it.
 */
export function assertKnownSchema(file: string): void {
  if (!existsSync(file)) return;
  let version: number;
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      version = db.pragma('user_version', { simple: true }) as number;
    } finally {
      db.close();
    }
  } catch {
    return;
  }
  checkSchemaVersion(file, version);
}

function checkSchemaVersion(file: string, version: number): void {
  if (version > SCHEMA_VERSION) {
    throw new Error(
      `archive ${file} has schema version ${version}, but this llmtap only knows up to ${SCHEMA_VERSION}; ` +
        'upgrade llmtap or point it at another archive file',
    );
  }
}

function migrate(db: Database.Database, file: string): void {
  const readVersion = (): number => db.pragma('user_version', { simple: true }) as number;
  const current = readVersion();
  checkSchemaVersion(file, current);
  if (current === SCHEMA_VERSION) return; // up to date: no transaction, no write

  // One step per IMMEDIATE transaction, re-reading the version under the write lock:
  // a step and its version bump commit together, and two processes opening a fresh
  // file at once cannot both apply the same step.
  const step = db.transaction((): boolean => {
    const version = readVersion();
    checkSchemaVersion(file, version);
    if (version >= SCHEMA_VERSION) return false;
    db.exec(MIGRATIONS[version]!);
    db.pragma(`user_version = ${version + 1}`);
    return true;
  });
  while (step.immediate()) {
    // keep stepping until up to date
  }
}

/** INSERT OR REPLACE: a re-recorded id overwrites instead of failing its whole batch. */
function insertSql(table: string, columns: readonly string[]): string {
  return `INSERT OR REPLACE INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
}

/** The row with its body columns as the archive keeps them: parts and compression (body-parts.ts). */
function compactBodies(row: ExchangeRow, bodies: BodyPartStore): ExchangeRow {
  if (row.request_body_layout !== null || row.response_body_layout !== null) return row; // already stored form
  const request = row.request_body === null ? undefined : bodies.encode(row.request_body, 'request', row.started_at);
  const response = row.response_body === null ? undefined : bodies.encode(row.response_body, 'response', row.started_at);
  return {
    ...row,
    request_body: request?.column ?? null,
    request_body_layout: request?.layout ?? null,
    response_body: response?.column ?? null,
    response_body_layout: response?.layout ?? null,
  };
}

/**
 * Places each row in its session and thread, then writes the batch's grouping keys and
 * totals, each key and each session and thread once. Grouping is a reading aid: a row
 * whose grouping fails (a bug, a damaged key) is stored ungrouped and leaves no keys or
 * totals behind; if writing them fails, the savepoint undoes them and the whole batch
 * is stored ungrouped rather than lost.
 */
function groupRows(rows: ExchangeRow[], summaries: readonly (ExchangeSummary | undefined)[], groups: SqliteGroupIndex, rollup: SessionRollup,
  saved: (work: () => void) => void): void {
  const index = new StagedGroupIndex(groups);
  const totals = rollup.begin();
  const grouped: ExchangeRow[] = [];
  rows.forEach((row, i) => {
    const summary = summaries[i];
    if (!summary) return;
    try {
      if (isAside(summary)) {
        placeAsideRow(row, placeAside(summary, index));
        index.keep();
        grouped.push(row);
        return;
      }
      const { grouping: g, retry } = placeExchange(summary, index);
      totals.add(row, { ...g, ...(summary.agent?.agentId === undefined ? {} : { agentId: summary.agent.agentId }), ...(retry ? { retry } : {}) }, summary.turns, summary.models);
      index.keep();
      row.session_id = g.sessionId;
      row.thread_id = g.threadId;
      row.turn = g.turn;
      grouped.push(row);
    } catch {
      index.drop();
      ungroup(row);
    }
  });
  if (grouped.length === 0) return;
  try {
    saved(() => {
      index.write();
      totals.write();
    });
  } catch {
    grouped.forEach(ungroup);
  }
}

/**
 * A token count (sessions/group-aside.ts) names the session and thread it was asked from
 * but no turn, and adds nothing to their totals: it is no turn, costs nothing and carries
 * no tokens. Nothing linking it leaves it in no session, as an ungrouped row.
 */
function placeAsideRow(row: ExchangeRow, place: AsidePlace | undefined): void {
  row.session_id = place?.sessionId ?? null;
  row.thread_id = place?.threadId ?? null;
  row.turn = null;
}

function ungroup(row: ExchangeRow): void {
  row.session_id = null;
  row.thread_id = null;
  row.turn = null;
}
