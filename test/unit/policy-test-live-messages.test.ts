import { describe, expect, it } from 'vitest';
import { makeExchange } from '../../src/exchange.js';
import { priceExchange } from '../../src/cost/price-exchange.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { simulatePolicy } from '../../src/policy/simulate.js';
import type { ExchangeRow, WsMessageRow } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';

/**
 * `policy test` reads a recorded Gemini Live session's messages with the redact rules that
 * block, as the proxy judges them live: the first message one refuses ends the session, and
 * what that saves is the model turns begun from it on.
 */
const T0 = Date.UTC(2026, 11, 1, 12);

function liveRow(start = T0): ExchangeRow {
  const ex = makeExchange({
    provider: 'gemini', api: 'gemini.live', client: { address: '127.0.0.1', user: 'ann' },
    request: { method: 'GET', path: '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent', headers: ['Host', 'generativelanguage.googleapis.com', 'Upgrade', 'websocket'] },
    timings: { start, end: start + 30_000 },
  });
  return { ...exchangeToRow(ex), host: 'generativelanguage.googleapis.com', status: 101, outcome: 'completed', model: 'gemini-live-2.5-flash-preview', input_tokens: 300, output_tokens: 30, cost_usd: 0.0003, cost_source: 'api' };
}

let seq = 0;
const message = (direction: 'client' | 'server', at: number, body: unknown, over: Partial<WsMessageRow> = {}): WsMessageRow => ({
  exchange_id: 'x', seq: seq++, direction, at: T0 + at, opcode: 1, size: 0, compressed: 0, truncated: 0, text: JSON.stringify(body), data: null, error: null, ...over,
});
const turn = (at: number, text: string, usage: { promptTokenCount: number; responseTokenCount: number }): WsMessageRow[] => [
  message('server', at, { serverContent: { modelTurn: { parts: [{ text }] } } }),
  message('server', at + 10, { serverContent: { turnComplete: true }, usageMetadata: { ...usage, totalTokenCount: usage.promptTokenCount + usage.responseTokenCount } }),
];
const said = (at: number, text: string) => message('client', at, { clientContent: { turns: [{ role: 'user', parts: [{ text }] }], turnComplete: true } });

function log(): WsMessageRow[] {
  seq = 0;
  return [
    message('client', 0, { setup: { model: 'models/gemini-live-2.5-flash-preview' } }),
    message('server', 5, { setupComplete: {} }),
    said(100, 'Weather in Paris?'),
    ...turn(200, 'Sunny.', { promptTokenCount: 100, responseTokenCount: 10 }),
    said(1_000, 'Mail it to jane@example.org'),
    ...turn(1_100, 'Done.', { promptTokenCount: 200, responseTokenCount: 20 }),
  ];
}

describe('policy test over a Gemini Live session\'s messages', () => {
  it('refuses at the first message a block rule refuses, saving the turns begun from it; the turns before it went upstream', () => {
    const policy = loadPolicyText('rules:\n  - {id: no-mail, redact: {detectors: [email], action: block}}\n', 'p.yaml');
    const report = simulatePolicy(policy, [liveRow()], { messagesOf: () => log() });
    expect(report.totals.blockedBy).toEqual({ content_blocked: 1 });
    expect(report.rules).toEqual([expect.objectContaining({ rule: 'no-mail', kind: 'redact', action: 'block', mode: 'enforce', requests: 1, savedTokens: 220, detectors: { email: 1 } })]);
    expect(report.totals.savedTokens).toBe(220);
  });

  it('counts a monitor rule on every message it would have refused, and refuses nothing; a message cut at the capture limit is unreadable', () => {
    const monitor = loadPolicyText('rules:\n  - {id: watch, mode: monitor, redact: {detectors: [email], action: block}}\n', 'p.yaml');
    const watched = simulatePolicy(monitor, [liveRow()], { messagesOf: () => log() });
    expect(watched.totals.blockedBy).toEqual({});
    expect(watched.rules).toEqual([expect.objectContaining({ rule: 'watch', mode: 'monitor', requests: 1, savedTokens: 220 })]);
    const cut = log();
    cut[2] = { ...cut[2]!, truncated: 1, text: '{"clientContent":{"turns":[{"role":"user","parts":[{"text":"Weath' };
    const policy = loadPolicyText('rules:\n  - {id: no-mail, redact: {detectors: [email], action: block}}\n', 'p.yaml');
    const report = simulatePolicy(policy, [liveRow()], { messagesOf: () => cut });
    expect(report.rules).toEqual([expect.objectContaining({ rule: 'no-mail', requests: 1, savedTokens: 330, detectors: { unreadable: 1 } })]);
  });

  it('charges budgets and token rates only what the session used before the refused message: the turns it saves never ran', () => {
    // Turn 1 (100 + 10 tokens) costs $0.00007 at gemini-live-2.5-flash's text rates; the whole session $0.0003.
    const policy = loadPolicyText([
      'rules:',
      '  - {id: no-mail, redact: {detectors: [email], action: block}}',
      '  - {id: spend, budget: {usd: 0.0002, period: day, per: user}}',
      '  - {id: tokens, rateLimit: {tokensPerMinute: 200, per: user}}',
    ].join('\n') + '\n', 'p.yaml');
    const report = simulatePolicy(policy, [liveRow(), liveRow(T0 + 40_000)], { messagesOf: () => log(), price: (input) => priceExchange(input) });
    // Charged the whole session, the first would have spent the budget and used 330 of the 200
    // tokens a minute: the second refused at its setup. Charged its first turn only, it goes on
    // to its own refused message.
    expect(report.totals.blockedBy).toEqual({ content_blocked: 2 });
    expect(report.rules.find((r) => r.rule === 'no-mail')).toMatchObject({ requests: 2, savedTokens: 440 });
  });

  it('reads no message under a policy without a block rule, nor of a session its setup\'s model is refused', () => {
    let read = 0;
    const messagesOf = () => (read++, log());
    simulatePolicy(loadPolicyText('rules:\n  - {id: pii, redact: {detectors: [email]}}\n', 'p.yaml'), [liveRow()], { messagesOf });
    const denied = simulatePolicy(loadPolicyText('rules:\n  - {id: no-live, action: deny, match: {api: gemini.live}}\n  - {id: no-mail, redact: {detectors: [email], action: block}}\n', 'p.yaml'), [liveRow()], { messagesOf });
    expect(denied.totals.blockedBy).toEqual({ model_not_allowed: 1 });
    expect(read).toBe(0);
  });
});
