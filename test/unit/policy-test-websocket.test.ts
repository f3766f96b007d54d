import { describe, expect, it } from 'vitest';
import { makeExchange } from '../../src/exchange.js';
import { archivedRequest } from '../../src/policy/archived-request.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { simulatePolicy } from '../../src/policy/simulate.js';
import { recordedRequests } from '../../src/websocket/reduce.js';
import { renderPolicyTest } from '../../src/cli/render/policy-test-text.js';
import type { ExchangeRow } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';

/**
 * `policy test` over WebSocket sessions (Codex's Responses over WebSocket, Realtime):
 * each is decided at its upgrade, as the proxy decides it, and charged its whole
 * archived cost. They used to be skipped, so a team replaying Codex traffic saw
 * neither its spend nor what its rules would have done to it.
 */
const T0 = Date.UTC(2026, 11, 1, 12);
const UPGRADE_HEADERS = ['Host', 'api.openai.com', 'Upgrade', 'websocket', 'Connection', 'Upgrade', 'Sec-WebSocket-Version', '13'];

function session(i: number, path: string, model: string, over: Partial<ExchangeRow> = {}): ExchangeRow {
  const ex = makeExchange({
    provider: 'openai', api: path.startsWith('/v1/realtime') ? 'realtime' : 'responses', client: { address: '127.0.0.1', user: 'ann' },
    request: { method: 'GET', path, headers: UPGRADE_HEADERS }, timings: { start: T0 + i * 60_000, end: T0 + i * 60_000 + 30_000 },
  });
  return { ...exchangeToRow(ex), status: 101, outcome: 'completed', model, input_tokens: 1000, output_tokens: 200, cost_usd: 0.05, cost_source: 'api', ...over };
}

function request(i: number, over: Partial<ExchangeRow> = {}): ExchangeRow {
  const ex = makeExchange({
    provider: 'openai', api: 'responses', client: { address: '127.0.0.1', user: 'ann' },
    request: { path: '/v1/responses', model: 'gpt-5-codex', headers: ['Host', 'api.openai.com', 'Content-Type', 'application/json'] },
    timings: { start: T0 + i * 60_000, end: T0 + i * 60_000 + 500 },
  });
  ex.request.body = { bytes: Buffer.from('{"model":"gpt-5-codex","input":"hi","temperature":0}'), size: 52, truncated: false };
  return { ...exchangeToRow(ex), status: 200, outcome: 'completed', input_tokens: 10, output_tokens: 5, cost_usd: 0.001, cost_source: 'api', ...over };
}

const codex = (i: number, over?: Partial<ExchangeRow>) => session(i, '/v1/responses', 'gpt-5-codex', over);
const realtime = (i: number) => session(i, '/v1/realtime?model=gpt-realtime', 'gpt-realtime');

describe('policy test replays WebSocket sessions', () => {
  it('reads an upgrade as the proxy decided it: no body, the model only from ?model=, the recorded model kept for its price', () => {
    const c = archivedRequest(codex(0), new Map());
    expect(c).toMatchObject({ upgrade: true, body: undefined, cacheable: false, recordedModel: 'gpt-5-codex', tokens: 1200, costUsd: 0.05 });
    expect(c.facts.model).toBeUndefined();
    expect(archivedRequest(realtime(0), new Map()).facts.model).toBe('gpt-realtime');
    // A refused upgrade is still an upgrade (its headers asked for one); a request is not.
    expect(archivedRequest(codex(0, { status: 503, outcome: 'upstream_error' }), new Map()).upgrade).toBe(true);
    expect(archivedRequest(request(0), new Map())).toMatchObject({ upgrade: false, facts: { model: 'gpt-5-codex' } });
  });

  it('judges a Gemini Live session by the model its setup named (recorded as the row\'s model), as the proxy judges its setup', () => {
    const live = session(0, '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=[REDACTED]', 'gemini-2.5-flash-native-audio-preview-09-2025', { api: 'gemini.live', provider: 'gemini', host: 'generativelanguage.googleapis.com' });
    expect(archivedRequest(live, new Map()).facts.model).toBe('gemini-2.5-flash-native-audio-preview-09-2025');
    const policy = loadPolicyText('rules:\n  - {id: flash-live-only, action: deny, match: {model: "gemini-2.5-flash-native-audio*"}}\n', 'p.yaml');
    expect(simulatePolicy(policy, [live]).totals.blockedBy).toEqual({ model_not_allowed: 1 });
  });

  it('access rules judge Realtime by its ?model= and Codex by the model it recorded (the proxy screens each of its requests)', () => {
    const policy = loadPolicyText('rules:\n  - {id: no-realtime, action: deny, match: {model: "gpt-realtime*"}}\n  - {id: no-gpt5, action: deny, match: {model: "gpt-5*"}}\n', 'p.yaml');
    const report = simulatePolicy(policy, [codex(0), realtime(1), request(2)]);
    expect(report.exchanges).toBe(3);
    expect(report.webSocketSessions).toBe(2);
    expect(report.totals.blockedBy).toEqual({ model_not_allowed: 3 });
    expect(report.rules.map((r) => [r.rule, r.requests, r.savedTokens])).toEqual([['no-gpt5', 2, 1215], ['no-realtime', 1, 1200]]);
    expect(report.totals.savedUsd).toBeCloseTo(0.101, 12);
    // Without a message log a session is replayed as one request.
    expect(renderPolicyTest(report)).toContain('3 exchanges replayed (2 WebSocket sessions)');
    // A Codex session allowed by its model is still decided by the other rules at its upgrade.
    const allow = loadPolicyText('rules:\n  - {id: codex, action: allow, match: {model: "gpt-5-codex"}}\n  - {id: rest, action: deny}\n  - {id: day, budget: {usd: 0.04, period: day, per: user}}\n', 'p.yaml');
    const allowed = simulatePolicy(allow, [codex(0), codex(1)]);
    expect(allowed.totals.blockedBy).toEqual({ budget_exceeded: 1 });
  });

  it('a session spends its budget and token bucket: the next request is refused', () => {
    const rows = [codex(0), request(0.5)];
    const budget = loadPolicyText('rules:\n  - {id: day, budget: {usd: 0.04, period: day, per: user}}\n', 'p.yaml');
    expect(simulatePolicy(budget, rows).totals.blockedBy).toEqual({ budget_exceeded: 1 });
    // 1,200 tokens against 600 a minute: 30 s later the bucket is still below zero.
    const tokens = loadPolicyText('rules:\n  - {id: tpm, rateLimit: {tokensPerMinute: 600, per: user}}\n', 'p.yaml');
    expect(simulatePolicy(tokens, rows).totals.blockedBy).toEqual({ rate_limited: 1 });
    // Without the session's spend and tokens, the request goes through.
    expect(simulatePolicy(budget, rows.slice(1)).totals.blocked).toBe(0);
    expect(simulatePolicy(tokens, rows.slice(1)).totals.blocked).toBe(0);
  });

  it('sessions before --since seed the budgets with their recorded cost', () => {
    const policy = loadPolicyText('rules:\n  - {id: day, budget: {usd: 0.04, period: day, per: user}}\n', 'p.yaml');
    const report = simulatePolicy(policy, [codex(0), request(5)], { since: T0 + 2 * 60_000 });
    expect(report.exchanges).toBe(1);
    expect(report.totals.blockedBy).toEqual({ budget_exceeded: 1 });
  });

  it('no cache for an upgrade; a fallback on connect errors only; a route keeps the session\'s model', () => {
    const policy = loadPolicyText([
      'rules:',
      '  - {id: all, cache: {ttl: 1h}}',
      '  - {id: backup, fallback: {upstreams: ["https://backup.example"], on: [connect_error, "503"]}}',
      '  - {id: mini, route: {model: gpt-5-mini}}',
    ].join('\n'), 'p.yaml');
    const refused = codex(2, { status: 503, outcome: 'upstream_error', cost_usd: null, input_tokens: null, output_tokens: null });
    const unreachable = codex(3, { status: null, outcome: 'upstream_error', error_code: 'upstream_unreachable', cost_usd: null, input_tokens: null, output_tokens: null });
    const report = simulatePolicy(policy, [codex(0), codex(1), refused, unreachable, request(4, { status: 503, outcome: 'upstream_error' })], { price: ({ model }) => ({ usd: model === 'gpt-5-codex' ? 0.05 : 0.01 }) as never });
    expect(report.totals.cached).toBe(0);
    expect(report.totals.fellBack).toBe(2); // the unreachable upgrade and the 503 request, not the refused upgrade
    const routes = report.rules.filter((r) => r.kind === 'route').map((r) => [r.to, r.requests, r.costDeltaUsd]);
    expect(routes).toContainEqual(['model kept (WebSocket)', 4, 0]);
    expect(routes.find((r) => r[0] === 'model gpt-5-mini')?.[1]).toBe(1);
  });

  it('replays a Codex session request by request from its message log, each judged by the model it names, at its own time', () => {
    const log = [
      client(0, 'gpt-5-codex'), ...answer(1, 'gpt-5-codex', 100, 50),
      client(2, 'o3'), ...answer(3, 'o3', 300, 150),
      client(4, 'gpt-5-codex'), { direction: 'server' as const, text: '{"type":"error","status":429,"error":{"code":"rate_limit_exceeded"}}', truncated: 0, at: T0 + 5 },
      client(70_000, 'gpt-5-codex'), ...answer(70_001, 'gpt-5-codex', 40, 10),
    ];
    const requests = recordedRequests(log);
    expect(requests.map((q) => [q.model, q.answer?.usage?.inputTokens, q.at! - T0])).toEqual([['gpt-5-codex', 100, 0], ['o3', 300, 2], ['gpt-5-codex', undefined, 4], ['gpt-5-codex', 40, 70_000]]);
    const policy = loadPolicyText('rules:\n  - {id: no-o3, action: deny, match: {model: o3}}\n  - {id: rpm, rateLimit: {requestsPerMinute: 1, per: model}}\n', 'p.yaml');
    const row = codex(0, { input_tokens: 440, output_tokens: 210, cost_usd: 0.065 });
    const report = simulatePolicy(policy, [row], { requestsOf: () => requests });
    expect([report.exchanges, report.webSocketSessions, report.sessionRequests]).toEqual([1, 1, 4]);
    // o3 refused (its 450 tokens and their share of the cost saved); gpt-5-codex's second request in the
    // first minute (unanswered in the log) is over 1 a minute; 70 s after the first, the bucket has refilled.
    expect(report.totals.blockedBy).toEqual({ model_not_allowed: 1, rate_limited: 1 });
    const denied = report.rules.find((r) => r.rule === 'no-o3')!;
    expect(denied.savedTokens).toBe(450);
    expect(denied.savedUsd).toBeCloseTo((0.065 * 450) / 650, 12);
  });

  it('a refused request saves its share of the session\'s cost at its own model\'s price, by tokens when a response has none', () => {
    const log = [client(0, 'gpt-5-codex'), ...answer(1, 'gpt-5-codex', 300, 100), client(2, 'o3'), ...answer(3, 'o3', 100, 50)];
    const requests = recordedRequests(log);
    const policy = loadPolicyText('rules:\n  - {id: no-o3, action: deny, match: {model: o3}}\n', 'p.yaml');
    const row = codex(0, { input_tokens: 400, output_tokens: 150, cost_usd: 0.03 });
    // o3 at 10× the price per token: its 150 tokens are 0.02 of the session's 0.03, not 150/550 of it.
    const perToken = (model: string | undefined): number => (model === 'o3' ? 0.0002 : 0.00002);
    const price = ({ responseModel, usage }: { responseModel?: string; usage?: { inputTokens?: number; outputTokens?: number } }) =>
      ({ usd: perToken(responseModel) * ((usage?.inputTokens ?? 0) + (usage?.outputTokens ?? 0)) }) as never;
    const priced = simulatePolicy(policy, [row], { requestsOf: () => requests, price });
    expect(priced.rules.find((r) => r.rule === 'no-o3')!.savedUsd).toBeCloseTo(0.03 * 0.03 / (0.008 + 0.03), 12);
    // A response the price data does not know: every share falls back to tokens (never a guess).
    const unknown = simulatePolicy(policy, [row], { requestsOf: () => requests, price: (input) => (input.responseModel === 'o3' ? { usd: null } : price(input as never)) as never });
    expect(unknown.rules.find((r) => r.rule === 'no-o3')!.savedUsd).toBeCloseTo(0.03 * 150 / 550, 12);
    expect(priced.rules.find((r) => r.rule === 'no-o3')!.savedTokens).toBe(150);
  });
});

const client = (ms: number, model: string) => ({ direction: 'client' as const, text: JSON.stringify({ type: 'response.create', model, input: 'hi' }), truncated: 0, at: T0 + ms });
function answer(ms: number, model: string, input: number, output: number) {
  const response = { id: `resp_${ms}`, model, status: 'completed', usage: { input_tokens: input, output_tokens: output } };
  return [
    { direction: 'server' as const, text: JSON.stringify({ type: 'response.created', response: { ...response, status: 'in_progress', usage: undefined } }), truncated: 0, at: T0 + ms },
    { direction: 'server' as const, text: JSON.stringify({ type: 'response.completed', response }), truncated: 0, at: T0 + ms },
  ];
}
