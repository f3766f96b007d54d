import { FollowedReader } from '../archive/followed-reader.js';

/** One line of the status page's "last exchanges"; the path without its query (keys travel there). */
export interface RecentExchange {
  startedAt: number;
  method: string;
  host: string;
  path: string;
  status: number | null;
  model: string | null;
}

/**
 * The newest exchanges of the archive, for the status page. A read-only connection of
 * its own, opened on first use and again when the archive was re-created (the writer
 * thread owns the writing one); WAL lets it read while the writer writes. Failures read
 * as "nothing to show": the page must never break because the archive is unwell (its
 * health is shown anyway).
 */
export function recentExchangesReader(file: string): { read(limit: number): RecentExchange[]; close(): void } {
  // The file at the path, followed: a re-created archive is read, not the deleted one.
  const archive = new FollowedReader(file, { readonly: true });
  return {
    read(limit) {
      try {
        const reader = archive.current();
        if (!reader) return [];
        const end = reader.endCursor();
        const { rows } = reader.exchangesAfter(Math.max(0, end - limit), limit);
        return rows.reverse().map((r) => ({ startedAt: r.started_at, method: r.method, host: r.host, path: r.path.split('?')[0] ?? '', status: r.status, model: r.model }));
      } catch {
        return [];
      }
    },
    close() {
      archive.close();
    },
  };
}
