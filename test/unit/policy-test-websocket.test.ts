import { describe, expect, it } from 'vitest';
import { makeExchange } from '../../src/exchange.js';
import { archivedRequest } from '../../src/policy/archived-request.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { simulatePolicy } from '../../src/policy/simulate.js';
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

  it('access rules judge Realtime by its ?model= and Codex by the model it recorded (the proxy screens each of its requests)', () => {
    const policy = loadPolicyText('rules:\n  - {id: no-realtime, action: deny, match: {model: "gpt-realtime*"}}\n  - {id: no-gpt5, action: deny, match: {model: "gpt-5*"}}\n', 'p.yaml');
    const report = simulatePolicy(policy, [codex(0), realtime(1), request(2)]);
    expect(report.exchanges).toBe(3);
    expect(report.webSocketSessions).toBe(2);
    expect(report.totals.blockedBy).toEqual({ model_not_allowed: 3 });
    expect(report.rules.map((r) => [r.rule, r.requests, r.savedTokens])).toEqual([['no-gpt5', 2, 1215], ['no-realtime', 1, 1200]]);
    expect(report.totals.savedUsd).toBeCloseTo(0.101, 12);
    expect(renderPolicyTest(report)).toContain('3 exchanges replayed (2 WebSocket sessions, each replayed as one request)');
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
});
