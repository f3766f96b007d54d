/** Number and time formats shared by the read-side commands. */
import { exchangeFailed, stopErrorOf } from '../../failed-exchange.js';
import { usdFraction } from '../../cost/usd-fraction.js';
import { withoutControls } from '../../terminal-text.js';

/** `1 turn`, `3 turns`: a count with its noun (plural with -s). */
export function counted(n: number, noun: string): string {
  return `${n} ${noun}${n === 1 ? '' : 's'}`;
}

/** 950 → "950", 12_345 → "12.3k", 4_200_000 → "4.2M". */
export function tokens(n: number | null | undefined): string {
  if (n === null || n === undefined) return '-';
  if (n < 1000) return String(n);
  if (n < 1_000_000) return `${trim(n / 1000)}k`;
  return `${trim(n / 1_000_000)}M`;
}

function trim(n: number): string {
  return n >= 100 ? n.toFixed(0) : n.toFixed(1).replace(/\.0$/, '');
}

/** USD with enough digits to tell small amounts apart; "-" when unknown, "~" marks API-equivalent, "+" a partial sum. */
export function usd(n: number | null | undefined, options: { apiEquivalent?: boolean; partial?: boolean } = {}): string {
  if (n === null || n === undefined) return '-';
  const digits = n >= 100 ? 0 : n >= 1 ? 2 : n >= 0.01 ? 3 : 4;
  // Under a cent, two significant digits (the web UI's too): $0.00012, not $0.0001, and
  // fractions of a hundredth of a cent still show what they are, not $0.0000.
  const amount = n > 0 && n < 0.01 ? usdFraction(n) : n.toFixed(digits);
  return `${options.apiEquivalent ? '~' : ''}$${amount}${options.partial ? '+' : ''}`;
}

/** 850 → "850ms", 12_300 → "12.3s", 754_000 → "12m34s", 7_500_000 → "2h05m". */
export function duration(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '-';
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)}s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
}

/** Local time "2026-12-05 14:03:07" (the terminal's zone; --json carries ISO UTC). */
export function localTime(epochMs: number): string {
  const d = new Date(epochMs);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/**
 * An exchange's status as the CLI prints it: the HTTP status, with the outcome when the
 * exchange did not complete (`200 upstream_error`: the headers said 200, then the stream
 * broke) or else the provider's error that ended its answer (`200 overloaded_error`: an
 * error event in the stream), the outcome alone when no status came; and whether it
 * failed (shown in red), by the one rule (failed-exchange.ts).
 */
export function statusLabel(status: number | null, outcome: string | null, stopReason: string | null = null): { text: string; failed: boolean } {
  const unfinished = outcome !== null && outcome !== 'completed';
  const after = unfinished ? outcome : stopErrorOf(status, stopReason);
  const text = status === null ? (outcome ?? '-') : after ? `${status} ${after}` : String(status);
  return { text, failed: exchangeFailed({ outcome, status, stopReason }) };
}

export function percent(ratio: number | null | undefined): string {
  return ratio === null || ratio === undefined ? '-' : `${Math.round(ratio * 100)}%`;
}

const UNITS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** An ISO 8601 date, or date and time (a space for the T, a zone or none: local time). */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * `--since` and `--before` values: a duration back from now ("30m", "24h", "7d", "2w")
 * or a date/time ("2026-12-01", "2026-12-01T09:00"). Throws one line naming the flag.
 */
export function parseTimeArg(flag: string, value: string, now = Date.now()): number {
  // `7d` and `-7d` both mean seven days ago.
  const rel = /^-?(\d+(?:\.\d+)?)\s*([mhdw])$/.exec(value.trim());
  if (rel) return now - Number(rel[1]) * UNITS[rel[2]!]!;
  // Only ISO 8601 dates and times: Date.parse alone reads "7" (a forgotten unit) as July 2001.
  const at = ISO_DATE.test(value.trim()) ? Date.parse(value.trim().replace(' ', 'T')) : Number.NaN;
  if (Number.isNaN(at)) throw new Error(`--${flag} "${value}": expected a duration such as 24h or 7d, or a date such as 2026-12-01`);
  // Date.parse rolls a day past the month's end into the next (2026-02-30 is March 2): a
  // purge --before would reach days further than typed. Not a guess to make.
  if (!onTheCalendar(value.trim())) throw new Error(`--${flag} "${value}": no such date or time`);
  return at;
}

/** Day within its month (leap years counted), hour 0–23, minute and second 0–59. */
function onTheCalendar(iso: string): boolean {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2}))?)?/.exec(iso);
  if (!m) return false;
  const [y, mo, d, h, mi, s] = m.slice(1).map((n) => Number(n ?? 0)) as [number, number, number, number, number, number];
  const day = new Date(Date.UTC(y, mo - 1, d));
  return day.getUTCMonth() === mo - 1 && day.getUTCDate() === d && h <= 23 && mi <= 59 && s <= 59;
}

/**
 * Captured text made safe to print on a terminal: a prompt or a model's answer can hold
 * escape sequences (set the window title, move the cursor, rewrite what is on screen,
 * recolour everything after it, or a carriage return that hides the start of a line), and
 * an answer can be steered by prompt injection. Every control character but newline and
 * tab is shown as U+FFFD. llmtap's own colours (colour(), render/table.ts) are written as
 * a marker no captured text can hold — a noncharacter and a random token made at start —
 * which only this turns into the escape sequence: a colour code that came with the
 * captured text is shown, not obeyed.
 */
export function terminalSafe(text: string): string {
  return withoutControls(text).replaceAll(COLOUR_MARK, '\x1b[');
}

/** SGR `code` (bold, dim, red …) as the renderers write it, for terminalSafe to make real. */
export function colour(code: 1 | 2 | 22 | 31 | 36 | 39): string {
  return `${COLOUR_MARK}${code}m`;
}

// Web Crypto, not node:crypto: the web UI's bundle takes this module too (policy-text.ts).
const COLOUR_MARK = `\ufdd0${Array.from(globalThis.crypto.getRandomValues(new Uint8Array(6)), (b) => b.toString(16).padStart(2, '0')).join('')}`;
