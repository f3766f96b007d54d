import type { ArchiveReader } from '../archive/store.js';
import type { ExchangeRow } from '../recorder/db.js';
import { MockIndex } from './mock-index.js';
import { recordingFromRow, type Recording, type Unreplayable } from './recording.js';
import { WsMockIndex } from './ws-index.js';
import { wsRecordingFromRow, type WsRecording } from './ws-recording.js';

export type MockSource = { session: string } | { since: number };

export interface LoadedRecordings {
  index: MockIndex;
  /** Recorded WebSocket sessions (status 101 with their messages). */
  ws: WsMockIndex;
  /** The session id resolved from a prefix (session source only). */
  sessionId?: string;
  /** Recorded exchanges left out, per reason (llmtap's own errors, cut bodies or messages). */
  skipped: Partial<Record<Unreplayable, number>>;
}

/**
 * The recordings of one session, or of everything since a time, read once through the
 * archive's read seam (bodies decoded). Throws a one-line Error naming the flag when
 * the session is unknown or ambiguous.
 */
export function loadRecordings(reader: ArchiveReader, source: MockSource): LoadedRecordings {
  let rows: Iterable<ExchangeRow>;
  let sessionId: string | undefined;
  if ('session' in source) {
    const found = reader.resolve(source.session);
    if (!found) throw new Error(`--session "${source.session}": no such session in the archive`);
    if (found.kind === 'ambiguous') throw new Error(`--session "${source.session}" matches several: ${found.matches.join(', ')}`);
    if (found.kind !== 'session') throw new Error(`--session "${source.session}" is an exchange, not a session`);
    sessionId = found.id;
    rows = reader.session(found.id)?.exchanges ?? [];
  } else rows = reader.exchangesWithBodies(source.since);
  const recordings: Recording[] = [];
  const sessions: WsRecording[] = [];
  const skipped: Partial<Record<Unreplayable, number>> = {};
  for (const row of rows) {
    if (row.status === 101) {
      // A WebSocket session: its messages are read one session at a time.
      const w = wsRecordingFromRow(row, reader.exchange(row.id)?.wsMessages ?? []);
      if (typeof w === 'string') skipped[w] = (skipped[w] ?? 0) + 1;
      else sessions.push(w);
      continue;
    }
    const r = recordingFromRow(row);
    if (typeof r === 'string') skipped[r] = (skipped[r] ?? 0) + 1;
    else recordings.push(r);
  }
  return { index: new MockIndex(recordings), ws: new WsMockIndex(sessions), sessionId, skipped };
}
