import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { exchangeWhere } from '../../src/archive/exchange-filter.js';
import { statusLabel } from '../../src/cli/render/format.js';
import { exchangeFailed, isErrorStopReason, isErrorSql, settleFailure } from '../../src/failed-exchange.js';
import { ollamaNative } from '../../src/providers/ollama.js';
import { openaiChat } from '../../src/providers/openai.js';
import { makeExchange } from '../../src/exchange.js';
import { liveItem } from '../../src/ui/server/live.js';
import { tailJson, tailLine } from '../../src/cli/tail.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { matchesFilters, NO_FILTERS } from '../../ui/src/api.js';

/** Stop reasons the reducers record for a stream the provider ended with its own error (providers/*). */
const ERROR_STOPS = ['overloaded_error', 'api_error', 'rate_limit_error', 'server_error', 'invalid_request_error', 'BadRequestError', 'error',
  'modelStreamErrorException', 'throttlingException', 'exception', 'failed', 'INTERNAL', 'UNAVAILABLE', 'RESOURCE_EXHAUSTED', 'CANCELLED',
  // A Gemini Live session the server ended with an error close (gemini-live.ts: liveCloseStop).
  'close 1011: Internal error encountered.', 'close 1008: Quota exceeded.', 'close 1007'];
/** Finish reasons of answers that ended as the provider meant them to. */
const ANSWER_STOPS = ['end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal', 'model_context_window_exceeded', 'stop', 'length',
  'tool_calls', 'content_filter', 'function_call', 'completed', 'incomplete', 'max_output_tokens', 'cancelled', 'STOP', 'MAX_TOKENS', 'SAFETY',
  'RECITATION', 'OTHER', 'BLOCKLIST', 'PROHIBITED_CONTENT', 'MALFORMED_FUNCTION_CALL', 'guardrail_intervened', 'content_filtered', 'load', 'unload',
  // A Live turn's ends.
  'turn_complete', 'interrupted', 'tool_call'];

describe('what counts as a failed exchange', () => {
  it('a stop reason that is the provider\'s error, and no finish reason of an answer', () => {
    expect(ERROR_STOPS.filter((s) => !isErrorStopReason(s))).toEqual([]);
    expect(ANSWER_STOPS.filter((s) => isErrorStopReason(s))).toEqual([]);
    expect([isErrorStopReason(null), isErrorStopReason(undefined), isErrorStopReason('')]).toEqual([false, false, false]);
  });

  it('the SQL rule selects exactly the rows the JS rule calls failed (older rows hold the same facts)', () => {
    const db = new Database(':memory:');
    db.exec('CREATE TABLE exchanges (id INTEGER PRIMARY KEY, outcome TEXT, status INTEGER, stop_reason TEXT)');
    const insert = db.prepare('INSERT INTO exchanges (outcome, status, stop_reason) VALUES (?, ?, ?)');
    const cases: [string | null, number | null, string | null][] = [];
    for (const stop of [...ERROR_STOPS, ...ANSWER_STOPS, null]) {
      for (const [outcome, status] of [['completed', 200], ['completed', 429], ['upstream_error', 200], ['client_aborted', null], [null, 200]] as const) cases.push([outcome, status, stop]);
    }
    cases.forEach((c) => insert.run(...c));
    const sqlFailed = (db.prepare(`SELECT id FROM exchanges WHERE ${isErrorSql()} ORDER BY id`).all() as { id: number }[]).map((r) => r.id);
    const jsFailed = cases.flatMap(([outcome, status, stopReason], i) => (exchangeFailed({ outcome, status, stopReason }) ? [i + 1] : []));
    expect(sqlFailed).toEqual(jsFailed);
    // A completed 200 counts by its stop reason alone.
    const completed = db.prepare(`SELECT stop_reason FROM exchanges WHERE outcome = 'completed' AND status = 200 AND ${isErrorSql()}`).all() as { stop_reason: string }[];
    expect(completed.map((r) => r.stop_reason)).toEqual(ERROR_STOPS);
    // The filter's aliased form (a join) reads the same columns of its table.
    const where = exchangeWhere({ status: 'error' }, 'e.');
    expect(db.prepare(`SELECT COUNT(*) AS n FROM exchanges e ${where.where}`).get()).toEqual({ n: jsFailed.length });
    db.close();
  });

  it('the CLI prints the provider\'s error after the status, in red', () => {
    expect(statusLabel(200, 'completed', 'overloaded_error')).toEqual({ text: '200 overloaded_error', failed: true });
    expect(statusLabel(200, 'upstream_error', 'overloaded_error')).toEqual({ text: '200 upstream_error', failed: true });
    expect(statusLabel(200, 'completed', 'end_turn')).toEqual({ text: '200', failed: false });
  });

  it('the web UI\'s live row is failed by the same rule, and its `error` filter keeps it', () => {
    const ex = (stopReason: string) => makeExchange({ provider: 'anthropic', api: 'messages', outcome: 'completed',
      response: { status: 200, headers: [], body: { bytes: Buffer.alloc(0), size: 0, truncated: false }, reassembled: { text: 'Bonjour', toolCalls: [], events: 4, stopReason } } });
    const failed = liveItem(ex('overloaded_error'), undefined);
    const answered = liveItem(ex('end_turn'), undefined);
    expect([failed.failed, failed.stopError, answered.failed, answered.stopError]).toEqual([true, 'overloaded_error', false, null]);
    expect([failed, answered].map((i) => matchesFilters(i, { ...NO_FILTERS, status: 'error' }))).toEqual([true, false]);
  });

  it('tail marks it: `200 overloaded_error`, and `"failed": true` in --json', () => {
    const row = exchangeToRow(makeExchange({ provider: 'anthropic', api: 'messages', outcome: 'completed', timings: { start: 1000, end: 1200 },
      response: { status: 200, headers: [], body: { bytes: Buffer.alloc(0), size: 0, truncated: false }, reassembled: { text: 'Bonjour', toolCalls: [], events: 4, stopReason: 'overloaded_error' } } }));
    expect(tailLine(row, false)).toContain(' 200 overloaded_error ');
    expect(tailJson(row)).toMatchObject({ status: 200, outcome: 'completed', failed: true, stop_reason: 'overloaded_error' });
  });

  it('a 2xx answer\'s failed flag and stop reason agree; an error status keeps its body\'s words', () => {
    expect(settleFailure({ failed: true as const, stopReason: 'tokens' }, 200)).toEqual({ failed: true, stopReason: 'error' });
    expect(settleFailure({ stopReason: 'error' }, 200)).toEqual({ failed: true, stopReason: 'error' });
    expect(settleFailure({ stopReason: 'stop' }, 200)).toEqual({ stopReason: 'stop' });
    expect(settleFailure({ failed: true as const }, 500)).toEqual({ failed: true });
  });
});

describe('mid-stream errors the reducers had missed', () => {
  const reduce = (parser: typeof openaiChat, type: string, body: string) => {
    const reducer = parser.createReducer(type);
    reducer.push(Buffer.from(body));
    return reducer.finish();
  };

  it('OpenRouter: an error beside the last choice (finish_reason error) fails the answer, named by the error', () => {
    const chunk = (delta: object, finish: string | null, extra: object = {}) => `data: ${JSON.stringify({ id: 'gen-1', model: 'openai/gpt-4o', choices: [{ index: 0, delta, finish_reason: finish }], ...extra })}\n\n`;
    const out = reduce(openaiChat, 'text/event-stream', chunk({ content: 'Hel' }, null) + chunk({ content: '' }, 'error', { error: { code: 'server_error', message: 'Provider disconnected' } }));
    expect([out.text, out.stopReason, out.failed]).toEqual(['Hel', 'server_error', true]);
  });

  it('Ollama: an {"error"} line ends the stream with an error', () => {
    const line = (o: object) => `${JSON.stringify(o)}\n`;
    const out = reduce(ollamaNative, 'application/x-ndjson', line({ model: 'llama3.2', message: { role: 'assistant', content: 'Hi' }, done: false }) + line({ error: 'an error was encountered while running the model' }));
    expect([out.text, out.stopReason, out.failed]).toEqual(['Hi', 'error', true]);
    // A whole error body (with its error status) is not read as a stream's end.
    expect(reduce(ollamaNative, 'application/json', JSON.stringify({ error: 'model "x" not found' })).stopReason).toBeUndefined();
  });
});
