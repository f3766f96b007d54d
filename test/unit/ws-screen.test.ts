import { describe, expect, it } from 'vitest';
import { makeExchange, type WsMessageRecord } from '../../src/exchange.js';
import { BudgetLedger } from '../../src/policy/budget.js';
import { PolicyBuckets } from '../../src/policy/evaluate.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { judgeLateSetup, refusalEvent, screenMessage, screensApi, screensMessages } from '../../src/proxy/ws-screen.js';
import { readRequest } from '../../src/websocket/reduce.js';

const messageModel = (m: WsMessageRecord) => readRequest(m)?.model;

const msg = (text: string | undefined, truncated = false): WsMessageRecord => ({ seq: 0, direction: 'client', at: 0, opcode: text === undefined ? 2 : 1, size: 0, compressed: false, truncated, ...(text === undefined ? {} : { text }) });
const POLICY = loadPolicyText('rules:\n  - {id: ok, match: {model: "gpt-5-codex*"}, action: allow}\n  - {id: watch, mode: monitor, match: {model: o3}, action: deny}\n  - {id: rest, action: deny}\n', 'p.yaml');
const facts = { host: 'api.openai.com', path: '/v1/responses', api: 'responses' as const, client: '127.0.0.1' };

describe('the access rules on the requests of a Codex WebSocket session', () => {
  it('reads the model a response.create names, on the event or in its response; nothing else asks for one', () => {
    expect(messageModel(msg('{"type":"response.create","model":"gpt-5-codex"}'))).toBe('gpt-5-codex');
    expect(messageModel(msg('{"type":"response.create","response":{"model":"o3"}}'))).toBe('o3');
    expect(messageModel(msg('{"type":"response.cancel","model":"o3"}'))).toBeUndefined();
    expect(messageModel(msg('{"type":"response.create"}'))).toBeUndefined();
    expect(messageModel(msg(undefined))).toBeUndefined();
    expect(messageModel(msg('not json'))).toBeUndefined();
    // Cut at the capture limit: the prefix is searched (clients write type and model first).
    expect(messageModel(msg('{"type":"response.create","model":"gpt-\\u0034o","input":[{"role":"user","content":"aaaa', true))).toBe('gpt-4o');
    expect(messageModel(msg('{"type":"conversation.item.create","item":{"model":"x","content":"aaaa', true))).toBeUndefined();
  });

  it('screens Responses sessions under any policy (a reload may add rules), nothing else', () => {
    expect(screensMessages(POLICY, 'responses')).toBe(true);
    expect(screensMessages(POLICY, 'realtime')).toBe(false);
    expect(screensMessages(POLICY, 'gemini.live')).toBe(true);
    expect(screensMessages(loadPolicyText('rules: []\n', 'p.yaml'), 'responses')).toBe(true);
    expect(screensMessages(undefined, 'responses')).toBe(false);
    // The sessions that get a gate (dormant while no policy is in force).
    expect([screensApi('responses'), screensApi('gemini.live'), screensApi('realtime')]).toEqual([true, true, false]);
  });

  it('judges a Live setup that went up before any policy by the access rules only: a denied model is refused, the decisions recorded with it', () => {
    const policy = loadPolicyText('rules:\n  - {id: no-audio, match: {model: "*native-audio*"}, action: deny}\n  - {id: one, rateLimit: {requestsPerMinute: 1}}\n', 'p.yaml');
    const live = { ...facts, host: 'generativelanguage.googleapis.com', api: 'gemini.live' as const };
    const ex = makeExchange({ api: 'gemini.live' });
    // The rate limit is not asked (nor the budgets): the setup was no request under this policy.
    expect(judgeLateSetup('gemini-live-2.5-flash-preview', policy, live, ex)).toBeUndefined();
    expect(judgeLateSetup('gemini-live-2.5-flash-preview', policy, live, ex)).toBeUndefined();
    expect(ex.policy).toBeUndefined();
    expect(judgeLateSetup('gemini-2.5-flash-native-audio', policy, live, ex)).toEqual({ code: 'model_not_allowed' });
    expect(ex.policy?.decisions).toEqual([{ rule: 'no-audio', kind: 'access', action: 'deny', enforced: true, model: 'gemini-2.5-flash-native-audio' }]);
  });

  it('refuses a request whose model\'s budget is spent (budget_exceeded, 429), keyed by the model the request names', () => {
    const policy = loadPolicyText('rules:\n  - {id: gpt5, match: {model: "gpt-5*"}, budget: {usd: 1, period: day, per: model}}\n', 'p.yaml');
    const ledger = new BudgetLedger();
    const now = Date.UTC(2026, 11, 6, 12);
    ledger.add(policy.budget[0]!, 'model:gpt-5-codex', 1.5, now);
    const ex = makeExchange({ api: 'responses' });
    const ask = (model: string) => screenMessage(msg(JSON.stringify({ type: 'response.create', model })), { policy, buckets: new PolicyBuckets(), budgets: ledger }, facts, ex, now).refusal;
    expect(ask('gpt-5-mini')).toBeUndefined(); // its own key, nothing spent
    expect(ask('o3')).toBeUndefined(); // no budget matches
    const refused = ask('gpt-5-codex');
    expect(refused?.code).toBe('budget_exceeded');
    expect(JSON.parse(refused!.event!)).toMatchObject({ type: 'error', status: 429, error: { code: 'budget_exceeded' } });
    ask('gpt-5-codex');
    expect(ex.policy?.decisions).toEqual([expect.objectContaining({ rule: 'gpt5', kind: 'budget', action: 'block', enforced: true, key: 'model:gpt-5-codex' })]);
  });

  it('refuses a model the rules deny with the Responses error event, and records each decision once per rule and model', () => {
    const ex = makeExchange({ api: 'responses' });
    const runtime = { policy: POLICY, buckets: new PolicyBuckets() };
    const ask = (model: string) => screenMessage(msg(JSON.stringify({ type: 'response.create', model })), runtime, facts, ex).refusal;
    expect(ask('gpt-5-codex')).toBeUndefined();
    expect(ask('gpt-5-codex')).toBeUndefined();
    const refused = ask('o3');
    expect(refused).toEqual({ code: 'model_not_allowed', event: refusalEvent('model_not_allowed', 'the model "o3" is not allowed by llmtap policy rule "rest"') });
    // The enforced rule's, not the monitor rule's that decided first.
    expect(JSON.parse(refused!.event!)).toEqual({ type: 'error', status: 403, error: { message: 'the model "o3" is not allowed by llmtap policy rule "rest" (model_not_allowed)', type: 'llmtap_error', param: null, code: 'model_not_allowed' } });
    expect(ask('o3')).toBeDefined();
    expect(ex.policy?.decisions).toEqual([
      { rule: 'ok', kind: 'access', action: 'allow', enforced: true, model: 'gpt-5-codex' },
      { rule: 'watch', kind: 'access', action: 'deny', enforced: false, model: 'o3' },
      { rule: 'rest', kind: 'access', action: 'deny', enforced: true, model: 'o3' },
    ]);
    // A message that is not a request is not judged; a request that names no model is judged as its upgrade was.
    // (No token buckets either: the request being answered keeps its own.)
    expect(screenMessage(msg('{"type":"response.cancel"}'), runtime, facts, ex)).toEqual({});
    expect(screenMessage(msg('{"type":"response.create"}'), runtime, facts, ex).refusal?.code).toBe('model_not_allowed');
  });
});

describe('rate limits on the requests of a Codex WebSocket session', () => {
  it('takes each request from its buckets (keyed by the model it names), pre-checks its max_output_tokens, and hands back the buckets its tokens go to', () => {
    const policy = loadPolicyText('rules:\n  - {id: rpm, rateLimit: {requestsPerMinute: 2, per: model}}\n  - {id: tpm, rateLimit: {tokensPerMinute: 1000, per: user}}\n', 'p.yaml');
    let clock = Date.UTC(2026, 11, 6, 12);
    const runtime = { policy, buckets: new PolicyBuckets(() => clock) };
    const ex = makeExchange({ api: 'responses' });
    const ask = (model: string, extra: Record<string, unknown> = {}) => screenMessage(msg(JSON.stringify({ type: 'response.create', model, ...extra })), runtime, facts, ex, clock);
    const first = ask('gpt-5-codex');
    expect(first.refusal).toBeUndefined();
    expect(first.tokenCharges!.map((c) => c.key)).toEqual([]); // the first enforced rule (rpm) decided
    expect(ask('gpt-5-codex').refusal).toBeUndefined();
    const third = ask('gpt-5-codex');
    expect(third.refusal?.code).toBe('rate_limited');
    expect(JSON.parse(third.refusal!.event!)).toMatchObject({ status: 429, error: { code: 'rate_limited' } });
    expect(ask('o3').refusal).toBeUndefined(); // its own bucket
    expect(ex.policy?.decisions).toEqual([expect.objectContaining({ rule: 'rpm', kind: 'rateLimit', limit: 'requests', key: 'model:gpt-5-codex' })]);
    clock += 60_000;
    const tokens = loadPolicyText('rules:\n  - {id: tpm, rateLimit: {tokensPerMinute: 1000, per: user}}\n', 'p.yaml');
    const tight = { policy: tokens, buckets: new PolicyBuckets(() => clock) };
    const judged = screenMessage(msg(JSON.stringify({ type: 'response.create', model: 'o3' })), tight, facts, ex, clock);
    expect(judged.tokenCharges!.map((c) => c.key)).toEqual(['user:127.0.0.1']);
    judged.tokenCharges![0]!.limiter.charge('user:127.0.0.1', 1500);
    expect(screenMessage(msg(JSON.stringify({ type: 'response.create', model: 'o3', max_output_tokens: 10 })), tight, facts, ex, clock).refusal?.code).toBe('rate_limited');
  });
});

describe('the access rules on a Gemini Live session\'s setup', () => {
  const LIVE = loadPolicyText('rules:\n  - {id: live-ok, match: {model: "gemini-live-2.5-flash*"}, action: allow}\n  - {id: rest, action: deny}\n', 'p.yaml');
  const liveFacts = { host: 'generativelanguage.googleapis.com', path: '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent', api: 'gemini.live' as const, client: '127.0.0.1' };
  const setup = (model: string) => msg(JSON.stringify({ setup: { model: `models/${model}`, generationConfig: { responseModalities: ['AUDIO'] } } }));

  it('judges the model the setup names (without its models/ prefix); a refusal ends the session (no error event: Live has none)', () => {
    const runtime = { policy: LIVE, buckets: new PolicyBuckets() };
    const ex = makeExchange({ api: 'gemini.live' });
    expect(screenMessage(setup('gemini-live-2.5-flash-preview'), runtime, liveFacts, ex).refusal).toBeUndefined();
    const refused = screenMessage(setup('gemini-2.5-pro'), runtime, liveFacts, ex).refusal;
    expect(refused).toEqual({ code: 'model_not_allowed' });
    expect(ex.policy?.decisions).toEqual([
      { rule: 'live-ok', kind: 'access', action: 'allow', enforced: true, model: 'gemini-live-2.5-flash-preview' },
      { rule: 'rest', kind: 'access', action: 'deny', enforced: true, model: 'gemini-2.5-pro' },
    ]);
  });

  it('judges nothing else the client sends (audio, text, tool answers), also as binary JSON; a binary setup is judged as a text one', () => {
    const runtime = { policy: LIVE, buckets: new PolicyBuckets() };
    const ex = makeExchange({ api: 'gemini.live' });
    expect(screenMessage(msg('{"realtimeInput":{"audio":{"data":"AAAA","mimeType":"audio/pcm"}}}'), runtime, liveFacts, ex)).toEqual({});
    expect(screenMessage(msg('{"clientContent":{"turns":[{"role":"user","parts":[{"text":"setup"}]}]}}'), runtime, liveFacts, ex)).toEqual({});
    const binary = (text: string) => ({ ...msg(undefined), base64: Buffer.from(text).toString('base64') });
    expect(screenMessage(binary(JSON.stringify({ setup: { model: 'models/gemini-2.5-pro' } })), runtime, liveFacts, ex).refusal?.code).toBe('model_not_allowed');
    expect(screenMessage(binary('{"toolResponse":{}}'), runtime, liveFacts, ex)).toEqual({});
  });
});
