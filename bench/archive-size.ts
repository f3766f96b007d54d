import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';

function fileSize(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

export function archiveBytes(home: string): { db: number; wal: number; total: number } {
  const db = fileSize(join(home, 'llmtap.db'));
  const wal = fileSize(join(home, 'llmtap.db-wal'));
  return { db, wal, total: db + wal };
}

export function countRows(home: string): number {
  const db = new Database(join(home, 'llmtap.db'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM exchanges').get() as { n: number }).n;
  } finally {
    db.close();
  }
}
