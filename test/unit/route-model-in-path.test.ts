import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkConfig } from '../../src/cli/check-config.js';
import { decisionLines } from '../../src/cli/render/policy-text.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { evaluateRouting, type Hop } from '../../src/policy/routing.js';
import type { MatchFacts } from '../../src/policy/types.js';
import { requestForHop, type BaseRequest } from '../../src/proxy/hop-request.js';
import { makeExchange } from '../../src/exchange.js';
import { simulatePolicy } from '../../src/policy/simulate.js';
import type { PriceInput, PriceResult } from '../../src/cost/price-exchange.js';
import { exchangeToRow } from '../../src/recorder/rows.js';

const AZURE = { tls: true, host: 'my-res.openai.azure.com', port: 443 };
const azureHop: Hop = { origin: { ...AZURE, label: 'https://my-res.openai.azure.com' }, model: 'gpt-4o-mini-prod', explicit: false };

describe('a route model on Azure OpenAI deployment paths', () => {
  const body = Buffer.from('{"messages":[{"role":"user","content":"hi"}], "model": "gpt-4o-prod"}');
  const base: BaseRequest = { method: 'POST', path: '/openai/deployments/gpt-4o-prod/chat/completions?api-version=2024-10-21', body, chunked: false, identity: body, headers: ['Content-Type', 'application/json', 'api-key', 'k'] };

  it('the deployment segment changes (query and the rest of the path kept), and a body model with it', () => {
    const r = requestForHop(base, azureHop);
    expect(r.path).toBe('/openai/deployments/gpt-4o-mini-prod/chat/completions?api-version=2024-10-21');
    expect(r.body!.toString()).toBe('{"messages":[{"role":"user","content":"hi"}], "model": "gpt-4o-mini-prod"}');
    expect(r.modelNotRewritten).toBeUndefined();
    // The api-key header is the client's own: it is not bound to the path.
    expect(r.headers).toContain('api-key');
  });

  it('a body without a model goes as sent; the path still changes, escaped as a segment', () => {
    const bare = Buffer.from('{"input":"hi"}');
    const r = requestForHop({ ...base, path: '/openai/deployments/emb/embeddings?api-version=2024-10-21', body: bare, identity: bare }, { ...azureHop, model: 'my emb/2' });
    expect([r.path, r.body, r.modelNotRewritten]).toEqual(['/openai/deployments/my%20emb%2F2/embeddings?api-version=2024-10-21', bare, undefined]);
  });

  it('a body in a coding llmtap cannot undo changes neither (it may name the model too), and says why', () => {
    const r = requestForHop({ ...base, identity: undefined }, azureHop);
    expect([r.path, r.body]).toEqual([base.path, body]);
    expect(r.modelNotRewritten).toMatch(/could not be read/);
  });
});

describe('a route model on Bedrock (the model is in the SigV4-signed path)', () => {
  const path = '/model/us.anthropic.claude-sonnet-4-5-20250929-v1:0/converse';
  const bedrock: MatchFacts = { provider: 'bedrock', host: 'bedrock-runtime.us-west-2.amazonaws.com', path, api: 'bedrock.converse', model: 'us.anthropic.claude-sonnet-4-5-20250929-v1:0', client: '127.0.0.1' };
  const target = { tls: true, host: bedrock.host, port: 443 };

  it('is not applied: the decision says so and why, the route keeps the model, and nothing of the request changes', () => {
    const policy = loadPolicyText('rules:\n  - {id: cheaper, route: {model: us.anthropic.claude-haiku-4-5-20251001-v1:0}}\n', 'policy.yaml');
    const out = evaluateRouting(policy, bedrock, target);
    expect(out.decisions).toEqual([{ rule: 'cheaper', kind: 'route', action: 'route', enforced: true, model: 'us.anthropic.claude-haiku-4-5-20251001-v1:0', modelNotApplied: expect.stringMatching(/Bedrock.*SigV4/) }]);
    expect(out.route!.to.model).toBe(bedrock.model);
    // A Bedrock body naming a model (some families' native shape) is signed too: it goes as sent.
    const body = Buffer.from('{"model":"x","messages":[]}');
    const req = requestForHop({ method: 'POST', path, body, identity: body, chunked: false, headers: [] }, out.plan!.hops[0]!);
    expect([req.path, req.body]).toEqual([path, body]);
    expect(decisionLines({ decisions: out.decisions })[0]).toMatch(/^cheaper · route · model us\.anthropic\.claude-haiku-4-5-20251001-v1:0 not applied \(Bedrock/);
    // The same rule on an OpenAI request applies as before.
    const openai = evaluateRouting(policy, { ...bedrock, provider: 'openai', host: 'api.openai.com', path: '/v1/chat/completions', api: 'chat.completions', model: 'gpt-4o' }, { ...target, host: 'api.openai.com' });
    expect([openai.decisions[0], openai.route!.to.model]).toEqual([{ rule: 'cheaper', kind: 'route', action: 'route', enforced: true, model: 'us.anthropic.claude-haiku-4-5-20251001-v1:0' }, 'us.anthropic.claude-haiku-4-5-20251001-v1:0']);
  });

  it('policy test replays a Bedrock exchange with the model kept, priced as it was', () => {
    const ex = makeExchange({
      provider: 'bedrock', api: 'bedrock.converse', client: { address: '127.0.0.1' }, target: { host: bedrock.host, port: 443, tls: true },
      request: { method: 'POST', path, model: bedrock.model!, headers: ['Host', bedrock.host, 'Content-Type', 'application/json'] },
    });
    ex.request.body = { bytes: Buffer.from('{"messages":[]}'), size: 15, truncated: false };
    const row = { ...exchangeToRow(ex), status: 200, outcome: 'completed', input_tokens: 10, output_tokens: 5, cost_usd: 0.001, cost_source: 'api' };
    const policy = loadPolicyText('rules:\n  - {id: cheaper, route: {model: us.anthropic.claude-haiku-4-5-20251001-v1:0}}\n', 'policy.yaml');
    // Haiku would cost a tenth; the request keeps its model, so its cost does not change.
    const price = (input: PriceInput): PriceResult => ({ usd: input.model?.includes('haiku') ? 0.0001 : 0.001, source: 'api', pricesVersion: 'test' });
    const route = simulatePolicy(policy, [row], { price }).rules.find((r) => r.kind === 'route')!;
    expect([route.to, route.requests, route.costDeltaUsd]).toEqual(['model kept (not applied)', 1, 0]);
  });

  it('a monitor rule records it as not applied too', () => {
    const policy = loadPolicyText('rules:\n  - {id: m, mode: monitor, route: {model: amazon.nova-lite-v1:0}}\n', 'policy.yaml');
    expect(evaluateRouting(policy, bedrock, target).decisions[0]).toMatchObject({ enforced: false, modelNotApplied: expect.any(String) });
  });

  it('loading a policy warns about a route or fallback model whose rule can match Bedrock, naming the line; not about one that cannot', () => {
    const p = loadPolicyText(`rules:
  - {id: all, route: {model: gpt-4o-mini}}
  - {id: openai-only, match: {provider: openai}, route: {model: gpt-4o-mini}}
  - {id: gpt, match: {model: gpt-4o}, route: {model: gpt-4o-mini}}
  - {id: claude, match: {model: "*claude*"}, route: {model: us.anthropic.claude-haiku-4-5-20251001-v1:0}}
  - {id: host, match: {host: "*.amazonaws.com"}, fallback: {upstreams: [{upstream: "https://backup.example", model: x}]}}
  - {id: nomodel, match: {provider: bedrock}, route: {upstream: "https://proxy.example"}}
  - {id: azure, match: {host: "*.openai.azure.com"}, route: {model: gpt-4o-mini-prod}}
`, 'policy.yaml');
    expect(p.warnings?.map((w) => w.text)).toEqual([
      'policy.yaml:2: rules[0].route.model: has no effect on Bedrock requests, which the rule can match (the model is in the SigV4-signed path); recorded as not applied there',
      'policy.yaml:5: rules[3].route.model: has no effect on Bedrock requests, which the rule can match (the model is in the SigV4-signed path); recorded as not applied there',
      'policy.yaml:6: rules[4].fallback.upstreams[0].model: has no effect on Bedrock requests, which the rule can match (the model is in the SigV4-signed path); recorded as not applied there',
    ]);
  });

  it('a local model\'s version (llama3.1, qwen2.5-coder) is no Bedrock id: no warning; a Bedrock id named plainly is', () => {
    const p = loadPolicyText(`rules:
  - {id: llama, match: {model: llama3.1}, route: {model: llama3.1:8b}}
  - {id: qwen, match: {model: [qwen2.5-coder, phi3.5]}, route: {model: qwen2.5-coder:7b}}
  - {id: meta, match: {model: meta.llama3-1-70b-instruct-v1:0}, route: {model: x}}
  - {id: deepseek, match: {model: us.deepseek.r1-v1:0}, route: {model: x}}
`, 'policy.yaml');
    expect(p.warnings?.map((w) => w.path.join('.'))).toEqual(['rules.2.route.model', 'rules.3.route.model']);
  });

  it('check-config reports the warnings beside its ok summary (still exit 0)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmtap-route-'));
    const file = join(dir, 'policy.yaml');
    writeFileSync(file, 'rules:\n  - {id: all, route: {model: gpt-4o-mini}}\n');
    expect(checkConfig(file)).toEqual({
      summary: `${file}: ok, policy with 1 rule (0 access, 0 redact, 0 rate limit, 1 route; 0 in monitor mode), 0 teams`,
      warnings: [expect.stringMatching(new RegExp(`^${file}:2: rules\\[0\\]\\.route\\.model: has no effect on Bedrock`))],
    });
  });
});
