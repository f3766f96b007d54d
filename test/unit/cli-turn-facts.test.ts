import { describe, expect, it } from 'vitest';
import { usdFigure } from '../../src/archive/stats-json.js';
import type { ExchangeListRow, SessionSummary } from '../../src/archive/store.js';
import type { ThreadView, TurnView } from '../../src/sessions/turns.js';
import { renderSession } from '../../src/cli/render/session-text.js';
import { statusLabel } from '../../src/cli/render/format.js';
import { tailJson, tailLine } from '../../src/cli/tail.js';
import { sessionJson } from '../../src/cli/sessions.js';

describe('an exchange\'s status on the terminal', () => {
  it('names the outcome of an exchange that did not complete, whatever its status said', () => {
    expect(statusLabel(200, 'completed')).toEqual({ text: '200', failed: false });
    expect(statusLabel(200, 'upstream_error')).toEqual({ text: '200 upstream_error', failed: true });
    expect(statusLabel(200, 'client_aborted')).toEqual({ text: '200 client_aborted', failed: true });
    expect(statusLabel(429, 'completed')).toEqual({ text: '429', failed: true });
    expect(statusLabel(null, 'upstream_unreachable')).toEqual({ text: 'upstream_unreachable', failed: true });
    expect(statusLabel(null, null)).toEqual({ text: '-', failed: false });
  });

  it('tail shows a stream broken after its 200 as broken, not as a success', () => {
    const row = {
      started_at: Date.UTC(2026, 11, 6, 12), ended_at: Date.UTC(2026, 11, 6, 12) + 55, status: 200, outcome: 'upstream_error',
      tool_name: 'openai-sdk-node', model: 'gpt-4o-mini', api: 'chat.completions', input_tokens: null, cached_input_tokens: null,
      cache_creation_input_tokens: null, output_tokens: null, cost_usd: null, cost_source: null, method: 'POST', host: 'api.openai.com',
      path: '/v1/chat/completions', session_id: null,
    } as unknown as ExchangeListRow;
    expect(tailLine(row, false)).toContain('  200 upstream_error  ');
    expect(tailLine({ ...row, outcome: 'completed' }, false)).toMatch(/ {2}200 {2}/);
    // Columns stay in place under a long tool name; no usage reads "-", not 0.
    const long = tailLine({ ...row, tool_name: 'anthropic-sdk-python-extra-long' }, false);
    expect(long.indexOf('gpt-4o-mini')).toBe(tailLine(row, false).indexOf('gpt-4o-mini'));
    expect(long).toContain('anthropic-sdk-pyt…');
    expect(tailLine(row, false)).toContain('in - out -');
    // --json says the same: no usage is null, as export writes it, not a count of 0.
    expect(tailJson(row).tokens).toEqual({ input: null, output: null, cached_input: null });
    expect(tailJson({ ...row, input_tokens: 0 }).tokens).toMatchObject({ input: 0 });
  });
});

describe('a retried turn in show', () => {
  const turn = (n: number, id: string, status = 200, outcome = 'completed'): TurnView => ({
    exchangeId: id, threadId: 't', turn: n, startedAt: Date.UTC(2026, 11, 6, 12), model: 'gpt-4o-mini', status, outcome, latencyMs: 10, ttftMs: 5,
    promptTokens: 11, cachedTokens: 0, outputTokens: 17, costUsd: null, apiEquivalent: false, added: [],
    answer: { text: 'hi', thinking: null, toolCalls: [], stopReason: null },
  });
  const session = { id: 's', startedAt: 0, endedAt: 10, tool: null, models: ['gpt-4o-mini'], threads: 1, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, costUsd: null, unpriced: 0, apiEquivalent: false, quota: null } as unknown as SessionSummary;

  it('is marked as a retry of its turn, and the header counts turns and retries apart', () => {
    const view: ThreadView = { thread: { id: 't' } as ThreadView['thread'], turns: [turn(1, 'a', 200, 'upstream_error'), turn(1, 'b'), turn(1, 'c'), turn(2, 'd')], children: [] };
    const text = renderSession(session, [view], { markdown: false, color: false, thinking: false, maxText: 0 });
    expect(text).toContain('2 turns (+2 retries), 1 thread');
    const facts = text.split('\n').filter((l) => l.startsWith('── ')).map((l) => l.split(' · ')[0]);
    expect(facts).toEqual(['── turn 1', '── turn 1 (retry)', '── turn 1 (retry)', '── turn 2']);
    expect(text).toContain(' · 200 upstream_error · ');
  });

  it('a resend of an earlier turn after a later one is a retry too, as sessions counts it', () => {
    // The same opening request sent again after turn 2 (a script run twice): the archive keeps its turn number, 1.
    const view: ThreadView = { thread: { id: 't' } as ThreadView['thread'], turns: [turn(1, 'a'), turn(2, 'b'), turn(1, 'c'), turn(3, 'd')], children: [] };
    const text = renderSession(session, [view], { markdown: false, color: false, thinking: false, maxText: 0 });
    expect(text).toContain('3 turns (+1 retry), 1 thread');
    const facts = text.split('\n').filter((l) => l.startsWith('── ')).map((l) => l.split(' · ')[0]);
    expect(facts).toEqual(['── turn 1', '── turn 2', '── turn 1 (retry)', '── turn 3']);
  });

  it('names the side thread (requests offering no tools) as such, a subagent as a subagent', () => {
    const side: ThreadView = { thread: { id: 's/side' } as ThreadView['thread'], turns: [turn(1, 'e')], children: [] };
    const sub: ThreadView = { thread: { id: 'sub-1', agentId: 'a1' } as ThreadView['thread'], turns: [turn(1, 'f')], children: [] };
    const main: ThreadView = { thread: { id: 's' } as ThreadView['thread'], turns: [turn(1, 'a'), turn(2, 'b')], children: [{ afterTurn: 0, toolCallId: null, view: side }, { afterTurn: 1, toolCallId: 'call_7', view: sub }] };
    const text = renderSession(session, [main], { markdown: false, color: false, thinking: false, maxText: 0 });
    expect(text).toContain('  ↳ side requests\n');
    expect(text).toContain('  side thread s/side (requests offering no tools: titles, summaries, probes)');
    expect(text).toContain('  ↳ subagent spawned by tool call call_7\n');
    expect(text).toContain('  subagent thread sub-1 (agent a1)');
  });
});

describe('dollar figures in JSON and CSV', () => {
  it('carry 12 significant digits: the sum of a price\'s parts without its binary noise', () => {
    expect(usdFigure(0.0029879999999999998)).toBe(0.002988);
    expect(usdFigure(0.00019920000000000002)).toBe(0.0001992);
    expect(usdFigure(1234.5678)).toBe(1234.5678);
    expect(usdFigure(null)).toBeNull();
  });

  it('sessions --json and tail --json say the same figure as stats --json and the CSV export', () => {
    const noisy = 0.00019920000000000002;
    expect(sessionJson({ id: 's', startedAt: 0, endedAt: 10, costUsd: noisy, exchanges: 1, retries: 0 } as unknown as SessionSummary).cost_usd).toBe(0.0001992);
    expect(tailJson({ started_at: 0, ended_at: 10, cost_usd: noisy, input_tokens: 21, cached_input_tokens: 4, api: 'messages' } as unknown as ExchangeListRow).cost_usd).toBe(0.0001992);
  });
});
