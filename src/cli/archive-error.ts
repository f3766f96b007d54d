/**
 * What to tell the user when SQLite refuses an archive command (a full disk, a lock held
 * too long, a read-only or damaged file): one line with SQLite's code and what to do, not
 * a stack trace. A purge that stops part-way keeps what it had deleted (each of its short
 * transactions commits), so running it again carries on.
 */
const ADVICE: Record<string, (command: string) => string> = {
  SQLITE_FULL: (command) => `the archive's disk is full`
    + (command === 'purge' ? ' (a purge writes before it frees; what it deleted so far stays deleted)' : '')
    + '; free some space there and run it again',
  SQLITE_BUSY: () => 'the archive is locked by another process',
  SQLITE_READONLY: () => 'the archive cannot be written (a read-only file, directory or disk)',
  SQLITE_CORRUPT: () => 'the archive file is damaged; restore a backup (llmtap backup)',
  SQLITE_NOTADB: () => 'the archive file is not an SQLite database; restore a backup (llmtap backup)',
};

/** The line for an error better-sqlite3 threw, or undefined for any other error. */
export function archiveErrorLine(command: string | undefined, error: unknown): string | undefined {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code !== 'string' || !code.startsWith('SQLITE_') || typeof message !== 'string') return undefined;
  // Extended codes (SQLITE_BUSY_SNAPSHOT, SQLITE_READONLY_DBMOVED …) share their primary's advice.
  const primary = /^SQLITE_[A-Z]+/.exec(code)?.[0] ?? code;
  const advice = ADVICE[primary];
  const prefix = command ? `llmtap: ${command}: ` : 'llmtap: ';
  if (!advice) return `${prefix}${message} (${code})`;
  const said = advice(command ?? '');
  return `${prefix}${said} (${code}: ${message})${primary === 'SQLITE_BUSY' ? '; try again' : ''}`;
}
