import { applyWritten, matchesFilters, type ListFilters, type ListRow, type UiWrittenItem } from './api.js';

/** How many pushed rows may wait for their session at once (the list's own bound). */
const MAX_WAITING = 1000;

/**
 * A list filtered by session and the rows pushed live: a pushed row has no session yet
 * (the archive's writer decides it a moment later), so the filter cannot take it when it
 * arrives. Rows that pass every other filter wait here until the `written` event says
 * their session; those of the filtered session then join the list.
 */
export class SessionWait {
  private readonly waiting = new Map<string, ListRow>();

  /** Keeps a pushed row the session filter alone turned away; false when it is not one. */
  hold(row: ListRow, filters: ListFilters): boolean {
    if (!filters.session.trim() || row.sessionId || !matchesFilters(row, { ...filters, session: '' })) return false;
    if (this.waiting.size >= MAX_WAITING) this.waiting.delete(this.waiting.keys().next().value!);
    this.waiting.set(row.id, row);
    return true;
  }

  /** The waiting rows now written into the filtered session, completed; every written row stops waiting. */
  take(written: readonly UiWrittenItem[], filters: ListFilters): ListRow[] {
    const session = filters.session.trim();
    const found: ListRow[] = [];
    for (const w of written) {
      const row = this.waiting.get(w.id);
      if (!row) continue;
      this.waiting.delete(w.id);
      if (session && w.sessionId === session) found.push(row);
    }
    return applyWritten(found, written);
  }

  clear(): void {
    this.waiting.clear();
  }
}
