import { usdFraction } from '../../src/cost/usd-fraction.js';

/** `1 turn`, `3 turns`: a count with its noun, plural with -s unless told otherwise. */
export function counted(n: number, noun: string, plural = `${noun}s`): string {
  return `${n} ${n === 1 ? noun : plural}`;
}

export function time(ms: number): string {
  const d = new Date(ms);
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** A list row's time: the clock alone today, with the date before that (rows from different days must not look alike). */
export function listTime(ms: number, now = Date.now()): string {
  const d = new Date(ms);
  const today = new Date(now);
  const sameDay = d.getFullYear() === today.getFullYear() && d.getMonth() === today.getMonth() && d.getDate() === today.getDate();
  return sameDay ? time(ms) : dateTime(ms);
}

export function dateTime(iso: string | number): string {
  const d = new Date(iso);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time(d.getTime())}`;
}

export function tokens(n: number | null | undefined): string {
  if (n === null || n === undefined) return '–';
  if (n >= 1_000_000) return `${(n / 1_000_000).toFixed(1)}M`;
  if (n >= 10_000) return `${Math.round(n / 1000)}k`;
  if (n >= 1000) return `${(n / 1000).toFixed(1)}k`;
  return String(n);
}

export function usd(n: number | null | undefined, apiEquivalent = false): string {
  if (n === null || n === undefined) return '–';
  const text = n === 0 ? '$0' : n < 0.01 ? `$${usdFraction(n)}` : `$${n.toFixed(2)}`;
  return apiEquivalent ? `~${text}` : text;
}

/** What every page's "TTFT" measures. */
export const TTFT_TITLE = "time to the answer's first byte";

/** A cost among a page's facts: a figure reads as one, a missing one is named ("cost –", not a dash alone between the tokens and the time). */
export function costFact(n: number | null | undefined, apiEquivalent = false): string {
  return n === null || n === undefined ? 'cost –' : usd(n, apiEquivalent);
}

export function ms(n: number | null | undefined): string {
  if (n === null || n === undefined) return '–';
  return n >= 10_000 ? `${(n / 1000).toFixed(1)} s` : `${Math.round(n)} ms`;
}

/** Ids are time-ordered (ULID/UUIDv7): ids of one minute share their head, so the tail tells them apart. */
export function shortId(id: string | null | undefined): string {
  if (!id) return '–';
  return id.length > 14 ? `${id.slice(0, 6)}…${id.slice(-6)}` : id;
}

const QUOTA_LABELS: Record<string, string> = { 'anthropic.5h': '5h', 'anthropic.7d': '7d', 'codex.primary': 'primary', 'codex.secondary': 'weekly' };

/** "5h +3.2% · 7d +0.4%": how much of each subscription usage window was used (as `sessions` prints it). */
export function quota(burn: Record<string, { burn: number } | undefined> | null | undefined): string {
  const parts = Object.entries(burn ?? {}).map(([w, v]) => `${QUOTA_LABELS[w] ?? w} +${(v?.burn ?? 0).toFixed(1)}%`);
  return parts.length > 0 ? parts.join(' · ') : '–';
}

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** A recorded WebSocket message as a line to read: text as is; close with its code and reason; ping, pong and binary by size. */
export function wsPayload(m: { opcode: number; size: number; text?: string; data_base64?: string }): string {
  if (m.text !== undefined) return m.text;
  const bytes = m.data_base64 === undefined ? new Uint8Array() : Uint8Array.from(atob(m.data_base64), (c) => c.charCodeAt(0));
  if (m.opcode === 8) {
    if (bytes.length < 2) return 'close (no code)';
    const reason = new TextDecoder().decode(bytes.subarray(2));
    return `close ${(bytes[0]! << 8) | bytes[1]!}${reason ? ` ${reason}` : ''}`;
  }
  const kind = m.opcode === 9 ? 'ping' : m.opcode === 10 ? 'pong' : 'binary';
  return `${kind}, ${m.size} byte${m.size === 1 ? '' : 's'}`;
}

/** Longest event kept on one line: a text delta with its envelope (an OpenAI chunk is ~300 characters), a ping, a usage update. */
export const EVENT_LINE = 320;

/**
 * An SSE event's data to read: a small one on one line, a large one (a message start with
 * its usage, a response created) pretty-printed. Every event pretty-printed took eight to
 * twenty lines for a word of text: an answer of a few hundred deltas ran to metres of page.
 */
export function eventData(data: string): string {
  try {
    const value = JSON.parse(data) as unknown;
    const compact = JSON.stringify(value);
    return compact.length <= EVENT_LINE ? compact : JSON.stringify(value, null, 2);
  } catch {
    return data;
  }
}
