/**
 * `show --raw` of a WebSocket session: its messages as stored, one a line after the
 * upgrade's request and 101 — direction, time, kind, then the payload. A text message
 * is its text as recorded (inflated, redacted); one holding a line break or another
 * control character (a client that pretty-prints its JSON, text steered to drive the
 * terminal) is `json:` and the text as a JSON string, so it stays one line, tells where
 * the next message starts and moves no cursor — JSON.parse gives the text back. Other
 * payloads (binary, close, ping, pong) are base64 as `export` gives them. Pure.
 */
import { isoTime } from '../../archive/export.js';
import type { WsMessageRow } from '../../recorder/row-types.js';

const KINDS: Record<number, string> = { 0: 'continuation', 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' };

// Tab aside (it keeps the line, as the terminal-safe text keeps it): C0 with the line breaks, DEL and C1.
// eslint-disable-next-line no-control-regex -- the point is to find them
const CONTROL = /[\x00-\x08\x0a-\x1f\x7f-\x9f]/;
// JSON.stringify escapes C0 but not DEL and C1 (U+009B is a CSI on some terminals).
// eslint-disable-next-line no-control-regex -- the point is to find them
const UNESCAPED_BY_JSON = /[\x7f-\x9f]/g;

export function wsRawLine(m: WsMessageRow): string {
  const kind = KINDS[m.opcode] ?? `opcode-${m.opcode}`;
  // Marks where the stored payload is not the whole message, so no one reads it as such.
  const marks = `${m.truncated === 1 ? ' (truncated)' : ''}${m.error !== null ? ` (${m.error})` : ''}`;
  const payload = m.text !== null ? ` ${textPayload(m.text)}` : m.data !== null && m.data.length > 0 ? ` base64:${m.data.toString('base64')}` : '';
  return `${m.direction} ${isoTime(m.at)} ${kind}${marks}${payload}\n`;
}

function textPayload(text: string): string {
  if (!CONTROL.test(text)) return text;
  return `json:${JSON.stringify(text).replace(UNESCAPED_BY_JSON, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)}`;
}
