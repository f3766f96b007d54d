import type Database from 'better-sqlite3';

/**
 * What the grouper remembers between exchanges, as keys → records: the last chain hash
 * of each request, each thread's latest turn, each Responses id, each spawning tool
 * call. Point reads and writes only, so one exchange costs a few lookups however big
 * the archive is.
 */
export interface GroupRecord {
  sessionId: string;
  threadId: string;
  turn: number;
  /** Epoch ms of the exchange that wrote the record (windows and pruning). */
  at: number;
  parentThreadId?: string;
  spawnedByToolCallId?: string;
  /** Thread records: whether the thread's requests offer tools (tells the main thread from side requests). */
  tools?: boolean;
  /** Chain records (`c:` keys): the request failed or was cut, so the same lookup sent again is a retry of it. */
  failed?: boolean;
  /** Owner records (`u:` keys): the proxy user who first sent a session id from the wire. */
  user?: string;
}

export interface GroupIndex {
  get(key: string): GroupRecord | undefined;
  put(key: string, record: GroupRecord): void;
}

/** For tests and short-lived use. */
export class MemoryGroupIndex implements GroupIndex {
  readonly map = new Map<string, GroupRecord>();
  get(key: string): GroupRecord | undefined {
    return this.map.get(key);
  }
  put(key: string, record: GroupRecord): void {
    this.map.set(key, { ...record });
  }
  prune(before: number): number {
    let removed = 0;
    for (const [key, record] of this.map) {
      if (record.at < before) {
        this.map.delete(key);
        removed++;
      }
    }
    return removed;
  }
}

/**
 * The key table. WITHOUT ROWID: the key is the primary index, so a lookup is one
 * B-tree descent and no rowid indirection; `at` is indexed for pruning.
 */
export const GROUP_KEYS_DDL = `
CREATE TABLE IF NOT EXISTS group_keys (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL,
  at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS group_keys_at ON group_keys(at);
`;

/** The index over an open archive (the writer thread's connection); the table must exist (GROUP_KEYS_DDL). */
export class SqliteGroupIndex implements GroupIndex {
  private readonly select: Database.Statement<[string], { value: string; at: number }>;
  private readonly upsert: Database.Statement<[string, string, number]>;
  private readonly remove: Database.Statement<[number]>;

  constructor(db: Database.Database) {
    this.select = db.prepare('SELECT value, at FROM group_keys WHERE key = ?');
    this.upsert = db.prepare('INSERT INTO group_keys (key, value, at) VALUES (?, ?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value, at = excluded.at');
    this.remove = db.prepare('DELETE FROM group_keys WHERE at < ?');
  }

  get(key: string): GroupRecord | undefined {
    const row = this.select.get(key);
    if (!row) return undefined;
    try {
      return { ...(JSON.parse(row.value) as Omit<GroupRecord, 'at'>), at: row.at };
    } catch {
      return undefined;
    }
  }

  put(key: string, record: GroupRecord): void {
    const { at, ...value } = record;
    this.upsert.run(key, JSON.stringify(value), Math.floor(at));
  }

  /** Forgets records last written before `before` (epoch ms); returns how many went. */
  prune(before: number): number {
    return this.remove.run(Math.floor(before)).changes;
  }
}
