/**
 * `show --raw` of a WebSocket session: its messages as stored, one a line after the
 * upgrade's request and 101 — direction, time, kind, then the payload. A text message
 * is its text as recorded (inflated, redacted), never escaped: raw is the bytes as
 * recorded (the JSON messages of the LLM APIs hold no newline); other payloads
 * (binary, close, ping, pong) are base64 as `export` gives them. Pure.
 */
import { isoTime } from '../../archive/export.js';
import type { WsMessageRow } from '../../recorder/row-types.js';

const KINDS: Record<number, string> = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

export function wsRawLine(m: WsMessageRow): string {
  const kind = KINDS[m.opcode] ?? `opcode-${m.opcode}`;
  // Marks where the stored payload is not the whole message, so no one reads it as such.
  const marks = `${m.truncated === 1 ? ' (truncated)' : ''}${m.error !== null ? ` (${m.error})` : ''}`;
  const payload = m.text !== null ? ` ${m.text}` : m.data !== null && m.data.length > 0 ? ` base64:${m.data.toString('base64')}` : '';
  return `${m.direction} ${isoTime(m.at)} ${kind}${marks}${payload}\n`;
}
