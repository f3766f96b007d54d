import { canonicalJson, opaqueDigest, REPLAY_VOLATILE_ANYWHERE, volatileFor } from '../cache/canonical-key.js';
import type { RawHeaders } from '../exchange.js';
import { parseJson } from '../providers/json.js';
import type { ExchangeRow, WsMessageRow } from '../recorder/db.js';
import { keyOf, mockCanonical, replayedHeaders, type Unreplayable } from './recording.js';

/** One message the mock sends as the server, after waiting `delayMs` when timing is replayed. */
export interface ServerMessage {
  /** 1 text, 2 binary, 8 close (a close the server sent first). */
  opcode: number;
  payload: Buffer;
  /** Recorded wait since the message before it (the 101 for the first opening message, the client's message for a reply). */
  delayMs: number;
}

/** A client message of the recording and what the server sent after it, up to the next client message. */
export interface WsTurn {
  /** The client message's canonical text (wsMessageCanonical). */
  canonical: string;
  key: string;
  replies: ServerMessage[];
}

/** One recorded WebSocket session the mock can replay. */
export interface WsRecording {
  exchangeId: string;
  startedAt: number;
  /** The upgrade's canonical request (method, host, path with sorted non-credential query; no body). */
  upgradeKey: string;
  /** The recorded 101's headers to send again (framing, accept and extension headers are the mock's own). */
  headers: RawHeaders;
  /** Server messages sent before the client's first message (`session.created`). */
  opening: ServerMessage[];
  turns: WsTurn[];
}

/**
 * Fields of a client message that change from run to run without changing the answer:
 * the provider's volatile request fields (one list, src/cache/canonical-key.ts), plus
 * `event_id`, the id a Realtime client gives each event it sends.
 */
const WS_VOLATILE = ['event_id'];

/**
 * A client message's canonical text, in the shape firstDifference reads ("line\nbody"):
 * `text` then its JSON with keys sorted and volatile fields removed (a digest when not
 * JSON), or `binary` then a digest. `payload` is the message as the archive stores it
 * (decoded and redacted), so a live message meets its recording.
 */
export function wsMessageCanonical(provider: string | undefined, opcode: number, payload: string | Buffer): string {
  if (opcode !== 1) return `binary\n${opaqueDigest(payload)}`;
  const text = typeof payload === 'string' ? payload : payload.toString('utf8');
  const json = parseJson(text);
  if (json === null || json === undefined || typeof json !== 'object') return `text\n${opaqueDigest(text)}`;
  return `text\n${canonicalJson(json, [...volatileFor(provider), ...WS_VOLATILE], REPLAY_VOLATILE_ANYWHERE)}`;
}

/** The canonical upgrade: what a live upgrade is matched on (`?model=` etc. sorted, credential parameters left out). */
export function wsUpgradeCanonical(provider: string | undefined, host: string, path: string): string {
  return mockCanonical({ provider, method: 'GET', host, path, body: null });
}

/** Headers of the recorded 101 that the mock makes itself or declines (permessage-deflate). */
const OWN_101 = new Set(['sec-websocket-accept', 'sec-websocket-extensions', 'x-llmtap-mock']);

/**
 * A recorded 101 and its stored messages as a replayable session, or why it cannot be one.
 * Any outcome is kept (agents often drop the socket instead of closing it): every stored
 * message is whole. A message stored cut or unreadable makes the session incomplete.
 */
export function wsRecordingFromRow(row: ExchangeRow, messages: readonly WsMessageRow[]): WsRecording | Unreplayable {
  if (row.status !== 101 || row.response_headers === null) return 'no_answer';
  const provider = row.provider ?? undefined;
  const ordered = [...messages].sort((a, b) => a.seq - b.seq);
  const opening: ServerMessage[] = [];
  const turns: WsTurn[] = [];
  let previousAt = row.upstream_headers_at ?? row.started_at;
  let clientClosed = false;
  for (const m of ordered) {
    const data = m.opcode === 1 || m.opcode === 2;
    if (!data && m.opcode !== 8) continue; // pings and pongs are answered by the protocol, not replayed
    if (m.truncated || m.error !== null) return 'body_incomplete';
    const payload = m.opcode === 1 ? Buffer.from(m.text ?? '', 'utf8') : Buffer.from(m.data ?? Buffer.alloc(0));
    const delayMs = Math.max(0, m.at - previousAt);
    previousAt = m.at;
    if (m.direction === 'client') {
      if (m.opcode === 8) clientClosed = true;
      else if (!clientClosed) {
        const canonical = wsMessageCanonical(provider, m.opcode, m.opcode === 1 ? (m.text ?? '') : payload);
        turns.push({ canonical, key: keyOf(canonical), replies: [] });
      }
      continue;
    }
    if (m.opcode === 8 && clientClosed) continue; // the answer to the client's close: the mock makes its own
    const message: ServerMessage = { opcode: m.opcode, payload, delayMs };
    const turn = turns[turns.length - 1];
    if (turn) turn.replies.push(message);
    else opening.push(message);
  }
  const headers = replayedHeaders(row.response_headers, row.id);
  const kept: RawHeaders = [];
  for (let i = 0; i + 1 < headers.length; i += 2) if (!OWN_101.has(headers[i]!.toLowerCase())) kept.push(headers[i]!, headers[i + 1]!);
  kept.push('x-llmtap-mock', row.id);
  return { exchangeId: row.id, startedAt: row.started_at, upgradeKey: keyOf(wsUpgradeCanonical(provider, row.host, row.path)), headers: kept, opening, turns };
}

/**
 * The error event an unmatched client message gets, in the provider's shape: Responses
 * over WebSocket sends `{"type":"error","status":…,"error":{…}}`; Realtime adds the
 * event ids. The session stays open, as it does after a provider's error event. (Gemini
 * Live has no error event: ws-replay.ts closes its session instead.)
 */
export function wsErrorEvent(api: string | undefined, message: string, clientEventId: string | undefined, n: number): string {
  const error = { type: 'invalid_request_error', code: 'no_recording', message: `${message} (no_recording)`, param: null };
  if (api === 'realtime') return JSON.stringify({ type: 'error', event_id: `event_llmtap_mock_${n}`, error: { ...error, event_id: clientEventId ?? null } });
  return JSON.stringify({ type: 'error', status: 404, error });
}

/** The `event_id` a client message carries (Realtime), to name in the error event. */
export function clientEventId(text: string): string | undefined {
  const json = parseJson(text) as { event_id?: unknown } | null | undefined;
  return json && typeof json === 'object' && typeof json.event_id === 'string' ? json.event_id : undefined;
}
