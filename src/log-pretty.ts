/**
 * Human-readable logs (`start --pretty`, the default on a terminal): one line per
 * log record. An exchange is one line coloured by its outcome: 2xx green, 3xx plain,
 * 4xx yellow, 5xx red (and a 2xx stream the provider ended with its own error), and
 * magenta when llmtap itself made the answer (a stable `x-llmtap-error` code). pino-pretty printed every field on its own line (8 lines per
 * exchange) and coloured only by level. Input is pino's JSON line, already redacted.
 * Values come from clients (a model name is whatever the request body says): their
 * control characters are shown as U+FFFD, never written to the operator's terminal.
 */
import { withoutControls } from './terminal-text.js';

const ESC = '\u001b[';
const paint = (code: number) => (text: string): string => `${ESC}${code}m${text}${ESC}39m`;
const green = paint(32);
const yellow = paint(33);
const red = paint(31);
const magenta = paint(35);
const cyan = paint(36);
const grey = (text: string): string => `${ESC}2m${text}${ESC}22m`;

const LEVELS: Record<number, string> = { 10: 'TRACE', 20: 'DEBUG', 30: 'INFO', 40: 'WARN', 50: 'ERROR', 60: 'FATAL' };

/** Keys shown in the fixed part of a line (or not at all) rather than as key=value. */
const EXCHANGE_KEYS = new Set(['level', 'time', 'msg', 'method', 'host', 'path', 'model', 'tool', 'status', 'in', 'out', 'ms', 'outcome', 'code', 'error']);

export function prettyLine(record: Record<string, unknown>, color: boolean): string {
  const time = typeof record.time === 'number' ? new Date(record.time).toTimeString().slice(0, 8) : '--:--:--';
  if (record.msg === 'exchange') return exchangeLine(record, time, color);
  const level = LEVELS[record.level as number] ?? String(record.level);
  const tint = !color ? (t: string) => t : (record.level as number) >= 50 ? red : (record.level as number) >= 40 ? yellow : (record.level as number) <= 20 ? grey : cyan;
  const fields = Object.entries(record).filter(([k, v]) => k !== 'level' && k !== 'time' && k !== 'msg' && v !== undefined).map(([k, v]) => `${k}=${show(v)}`);
  return [time, tint(level.padEnd(5)), withoutControls(String(record.msg ?? '')), ...fields].join(' ');
}

/** "14:03:07 200 POST api.openai.com/v1/chat/completions gpt-4o-mini in 12 out 34 1.2s openai-sdk". */
function exchangeLine(r: Record<string, unknown>, time: string, color: boolean): string {
  const status = typeof r.status === 'number' ? r.status : undefined;
  // `error`: the provider's own error that ended a stream after its 200, written after the status as tail writes it.
  const label = `${status ?? '---'}${r.code ? ` ${String(r.code)}` : r.error ? ` ${String(r.error)}` : ''}`;
  const tint = !color ? (t: string) => t : r.code ? magenta : status === undefined || status >= 500 || r.error ? red : status >= 400 ? yellow : status >= 200 && status < 300 ? green : (t: string) => t;
  const parts = [
    time, tint(withoutControls(label)), withoutControls(`${String(r.method ?? '')} ${String(r.host ?? '')}${String(r.path ?? '')}`),
    r.model === undefined ? '-' : withoutControls(String(r.model)),
    r.in === undefined && r.out === undefined ? '' : `in ${show(r.in ?? '-')} out ${show(r.out ?? '-')}`,
    typeof r.ms === 'number' ? duration(r.ms) : '',
    r.tool === undefined ? '' : withoutControls(String(r.tool)),
    r.outcome && r.outcome !== 'completed' ? withoutControls(String(r.outcome)) : '',
    ...Object.entries(r).filter(([k, v]) => !EXCHANGE_KEYS.has(k) && v !== undefined).map(([k, v]) => `${k}=${show(v)}`),
  ];
  return parts.filter((p) => p !== '').join(' ');
}

function duration(ms: number): string {
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

function show(v: unknown): string {
  // JSON.stringify escapes C0 controls but leaves C1 (U+0080–U+009F) as they are.
  if (typeof v === 'string') return withoutControls(/\s/.test(v) || v === '' ? JSON.stringify(v) : v);
  return withoutControls(typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v));
}

/** A pino destination that writes each JSON line as one pretty line to `out`. */
export function prettyDestination(out: NodeJS.WritableStream, color: boolean): { write(line: string): boolean } {
  return {
    write(chunk: string): boolean {
      for (const line of chunk.split('\n')) {
        if (!line) continue;
        let record: Record<string, unknown>;
        try {
          record = JSON.parse(line) as Record<string, unknown>;
        } catch {
          out.write(`${line}\n`);
          continue;
        }
        out.write(`${prettyLine(record, color)}\n`);
      }
      return true;
    },
  };
}
