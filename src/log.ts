import { pino, type Logger, type LoggerOptions } from 'pino';
import { prettyDestination } from './log-pretty.js';
import { builtInRedactor, CREDENTIAL_HEADER_NAMES, REDACTED } from './redact/redactor.js';

export type { Logger };

/**
 * Header paths pino must never print: every credential header name the redaction
 * module knows. llmtap does not log headers on purpose (log lines carry method, host,
 * path without query, model, status, tokens); this is the safety net for a `headers`
 * object logged by mistake. No wildcard paths: they make pino walk every logged
 * object, a measurable cost on the per-exchange line.
 */
export const LOG_REDACT_PATHS = CREDENTIAL_HEADER_NAMES.map((name) => (/^[a-z]+$/.test(name) ? `headers.${name}` : `headers["${name}"]`));

/**
 * The second safety net: every top-level string of every log line passes the
 * built-in key patterns (a CONNECT host, an SNI name or an error message can carry
 * a key). Call sites that log request fields (handle-exchange) redact them first
 * with the operator's patterns too; this catches the lines that do not.
 */
function redactLogLine(line: Record<string, unknown>): Record<string, unknown> {
  for (const key in line) {
    const value = line[key];
    if (typeof value === 'string') line[key] = builtInRedactor.text(value);
  }
  return line;
}

/**
 * JSON lines are written in blocks of about this many bytes, or every LOG_FLUSH_MS,
 * whichever comes first (and synchronously on exit). One write per line cost a
 * syscall and a thread-pool round trip per exchange: about a tenth of the proxy's
 * CPU under load.
 */
const LOG_BUFFER_BYTES = 4096;
const LOG_FLUSH_MS = 200;

export interface LogOptions {
  level?: string;
  /** Human-readable output (default when stderr is a TTY). */
  pretty?: boolean;
  /** Where JSON lines go; stderr by default. */
  destination?: NodeJS.WritableStream;
}

export function createLogger(options: LogOptions = {}): Logger {
  const base: LoggerOptions = {
    level: options.level ?? 'info',
    base: undefined,
    redact: { paths: LOG_REDACT_PATHS, censor: REDACTED },
    formatters: { log: redactLogLine },
  };
  const pretty = options.pretty ?? Boolean(process.stderr.isTTY);
  if (pretty && !options.destination) {
    // Colour on a terminal, or when FORCE_COLOR asks for it; never with NO_COLOR (no-color.org).
    const color = !process.env.NO_COLOR && (Boolean(process.stderr.isTTY) || Boolean(process.env.FORCE_COLOR));
    return pino(base, prettyDestination(process.stderr, color) as pino.DestinationStream);
  }
  return pino(base, (options.destination as pino.DestinationStream | undefined) ?? pino.destination({ dest: 2, sync: false, minLength: LOG_BUFFER_BYTES, periodicFlush: LOG_FLUSH_MS }));
}

/** A logger that drops everything; for tests and library use. */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
