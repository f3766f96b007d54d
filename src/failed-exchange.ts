/**
 * What counts as a failed exchange, for every place that counts or marks failures
 * (stats, `--status error`, sessions, the web UI, tail/show, OpenTelemetry): it did not
 * complete, its status is 400 or more, or its answer's stop reason is an error the
 * provider sent inside the 2xx — a stream the provider ended with its own error after
 * the 200 went out, which the SDKs throw. The relay finished such an exchange cleanly
 * (outcome `completed`), so the stop reason is what tells: the reducers record the
 * error's kind as it (providers/*), which archives have held since before this rule,
 * so older rows count the same way. Pure, and free of node:* (the UI bundle uses it).
 */

/**
 * google.rpc.Code names: a Gemini stream cut by an `{error: {status}}` chunk stops with
 * one. None is a Gemini finishReason or blockReason (those are STOP, MAX_TOKENS, SAFETY…).
 * Upper case only: the Responses API's `cancelled` (a response the caller cancelled) is no error.
 */
const RPC_STATUSES = ['CANCELLED', 'UNKNOWN', 'INVALID_ARGUMENT', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'ALREADY_EXISTS', 'PERMISSION_DENIED',
  'RESOURCE_EXHAUSTED', 'FAILED_PRECONDITION', 'ABORTED', 'OUT_OF_RANGE', 'UNIMPLEMENTED', 'INTERNAL', 'UNAVAILABLE', 'DATA_LOSS', 'UNAUTHENTICATED'] as const;
const RPC_SET: ReadonlySet<string> = new Set(RPC_STATUSES);

/**
 * A stop reason that is an error the provider sent: Anthropic's error types
 * (`overloaded_error`, `api_error`…), OpenAI Chat's (`server_error`; compatible servers'
 * `BadRequestError`, OpenRouter's finish_reason `error`), Bedrock's exception types
 * (`modelStreamErrorException`), a Responses `response.failed` (`failed`), Gemini's
 * RPC status, a WebSocket session the server ended with an error close (`close 1011:
 * Internal error encountered.`: gemini-live.ts), and `error` where the error named no
 * kind. No finish reason of a completed answer reads like one (end_turn, stop, length, tool_calls, STOP…).
 */
export function isErrorStopReason(stop: string | null | undefined): boolean {
  if (!stop) return false;
  return /(?:error|exception)$/i.test(stop) || stop === 'failed' || RPC_SET.has(stop) || /^close /i.test(stop);
}

/**
 * The provider's error that ended an answer under way, to print after its status
 * (`200 overloaded_error`), else null. Not after an error status, which says it all: the
 * stop reason there is the error body's own words (a turn's `error: api_error: Internal
 * server error`), printed on a line of their own, and one that happened to end in "error"
 * was printed twice.
 */
export function stopErrorOf(status: number | null | undefined, stopReason: string | null | undefined): string | null {
  return (status ?? 0) < 400 && isErrorStopReason(stopReason) ? stopReason! : null;
}

/** The facts the rule reads, as a row or an Exchange holds them. */
export interface FailureFacts {
  outcome: string | null | undefined;
  status: number | null | undefined;
  stopReason: string | null | undefined;
}

export function exchangeFailed(e: FailureFacts): boolean {
  return (e.outcome != null && e.outcome !== 'completed') || (e.status ?? 0) >= 400 || isErrorStopReason(e.stopReason);
}

/**
 * exchangeFailed in SQL over the exchanges table (`alias`: the table's, e.g. `e.`, when
 * the query joins others); 1 or 0, never NULL. A CASE, not ORs: SQLite evaluates every
 * operand of an OR in a value (`SUM(…)` in stats), and the stop-reason tests are the
 * dear part — with CASE a row decided by its outcome or status, or without a stop
 * reason, skips them (500k rows: ~+50 ms over the outcome/status test alone, ~+120 ms as ORs).
 * LIKE is case-insensitive for ASCII, `=`/IN are not, as isErrorStopReason.
 */
export function isErrorSql(alias = ''): string {
  const stop = `${alias}stop_reason`;
  return `(CASE WHEN ${alias}outcome IS NOT NULL AND ${alias}outcome != 'completed' THEN 1 WHEN ${alias}status >= 400 THEN 1 WHEN ${stop} IS NULL THEN 0`
    + ` WHEN ${stop} LIKE '%error' OR ${stop} LIKE '%exception' OR ${stop} = 'failed' OR ${stop} IN (${RPC_STATUSES.map((s) => `'${s}'`).join(', ')})`
    + ` OR ${stop} LIKE 'close %' THEN 1 ELSE 0 END)`;
}

/**
 * Makes a 2xx answer's `failed` flag and its stop reason say the same thing: an answer
 * the reducer saw fail whose error named no kind that reads as one (OpenAI's
 * `{type: "tokens"}`, a 200 `{error}` body) stops with `error`; one that stopped with an
 * error kind anyway (OpenRouter's finish_reason `error` beside its `error` object) is
 * failed — not cached, not estimated, counted as the archive counts it. An error status
 * says it all already: its body's own words are the stop reason show gives it.
 */
export function settleFailure<T extends { stopReason?: string; failed?: true }>(answer: T, status: number): T {
  if (status >= 400) return answer;
  if (answer.failed && !isErrorStopReason(answer.stopReason)) answer.stopReason = 'error';
  else if (!answer.failed && isErrorStopReason(answer.stopReason)) answer.failed = true;
  return answer;
}
