import { describe, expect, it } from 'vitest';
import { makeExchange } from '../../src/exchange.js';
import type { ExchangeRow } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { threadTurns } from '../../src/sessions/turns.js';
import { renderTurnLines } from '../../src/cli/render/session-text.js';
import { statusLabel } from '../../src/cli/render/format.js';
import { listItem } from '../../src/ui/server/list-item.js';

/**
 * A turn the provider (or llmtap) answered with an error has no text and no stop reason:
 * read back it showed the prompt and an empty answer, and only the status said it failed.
 * Its stop reason is now the error the answer names, as a refused WebSocket request's is.
 */
function answered(status: number, body: unknown, over: Partial<ExchangeRow> = {}): ExchangeRow {
  const ex = makeExchange({ id: `e-${status}`, provider: 'openai', api: 'chat.completions', request: { method: 'POST', path: '/v1/chat/completions' } });
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  return { ...exchangeToRow(ex), status, outcome: 'completed', thread_id: 't', turn: 1, response_body: Buffer.from(text), request_body: Buffer.from('{"model":"x","messages":[{"role":"user","content":"hi"}]}'), ...over };
}
const stop = (row: ExchangeRow): string | null => threadTurns([row])[0]!.answer.stopReason;

describe('a turn answered with an error', () => {
  it('says which error and its message, in each provider\'s error shape', () => {
    expect(stop(answered(404, { error: { message: 'The model `x` does not exist', type: 'invalid_request_error', param: null, code: 'model_not_found' } }))).toBe('error: model_not_found: The model `x` does not exist');
    expect(stop(answered(429, { type: 'error', error: { type: 'rate_limit_error', message: 'Number of request tokens has exceeded your per-minute rate limit' } }))).toBe('error: rate_limit_error: Number of request tokens has exceeded your per-minute rate limit');
    expect(stop(answered(400, [{ error: { code: 400, message: 'API key not valid.', status: 'INVALID_ARGUMENT' } }]))).toBe('error: INVALID_ARGUMENT: API key not valid.');
    expect(stop(answered(404, { error: "model 'llama9' not found" }))).toBe("error: model 'llama9' not found");
    expect(stop(answered(400, { message: 'The provided model identifier is invalid.' }))).toBe('error: The provided model identifier is invalid.');
  });

  it('names llmtap\'s own error code when llmtap answered; a long message is cut to one line', () => {
    expect(stop(answered(502, { error: { message: 'upstream connection refused', type: 'llmtap_error', code: 'upstream_unreachable' } }, { error_code: 'upstream_unreachable', outcome: 'proxy_error' }))).toBe('error: upstream_unreachable: upstream connection refused');
    const long = stop(answered(400, { error: { message: `bad\n${'x'.repeat(500)}`, type: 'invalid_request_error' } }))!;
    expect(long.startsWith('error: invalid_request_error: bad x')).toBe(true);
    expect(long.length).toBeLessThanOrEqual(240);
    expect(long.endsWith('…')).toBe(true);
  });

  it('leaves alone a body that names no error, and every answer that is not an error', () => {
    expect(stop(answered(500, '<html>Bad gateway</html>'))).toBe('error: HTTP 500');
    expect(stop(answered(200, { id: 'x', choices: [] }, { stop_reason: 'stop' }))).toBe('stop');
    expect(stop(answered(200, { id: 'x', choices: [] }))).toBeNull();
    // A stream the provider broke with an error event keeps the reason the parser recorded.
    expect(stop(answered(200, 'event: error\ndata: {}', { stop_reason: 'overloaded_error' }))).toBe('overloaded_error');
  });

  it('the status line says the status alone: the error is the stop line\'s, however its message ends', () => {
    // An Anthropic 500 names its error as `api_error`, and its message ends in "error": the
    // turn's stop reason then reads like a stream's error kind, and was printed after the status too.
    const row = answered(500, { type: 'error', error: { type: 'api_error', message: 'Internal server error' } });
    const turn = threadTurns([row])[0]!;
    const lines = renderTurnLines(turn, 0, { markdown: false, color: false, thinking: false, maxText: 0 });
    expect(lines[0]).toContain(' · 500 · ');
    expect(lines.filter((l) => l.includes('api_error'))).toEqual(['   stop: error: api_error: Internal server error']);
    // Wherever a status is printed: after an error status no stop reason is added (it is the body's own words).
    expect(statusLabel(500, 'completed', 'error: api_error: Internal server error')).toEqual({ text: '500', failed: true });
    expect(statusLabel(400, 'completed', 'INVALID_ARGUMENT')).toEqual({ text: '400', failed: true });
    expect(listItem({ ...row, stop_reason: 'INVALID_ARGUMENT', status: 400 })).toMatchObject({ stopError: null, failed: true });
  });
});
