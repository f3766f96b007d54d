import { describe, expect, it } from 'vitest';
import { makeExchange } from '../../src/exchange.js';
import { clampedBody } from '../../src/policy/clamp-body.js';
import { evaluatePolicy, PolicyBuckets } from '../../src/policy/evaluate.js';
import { evaluateLimits } from '../../src/policy/limits.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { applyPolicy } from '../../src/policy/stage.js';
import type { MatchFacts } from '../../src/policy/types.js';

const facts = (over: Partial<MatchFacts> = {}): MatchFacts => ({ provider: 'openai', host: 'api.openai.com', path: '/v1/chat/completions', api: 'chat.completions', model: 'gpt-4o-mini', client: '127.0.0.1', ...over });
const policy = (yaml: string) => loadPolicyText(yaml, 'p.yaml');

describe('limits: request size', () => {
  const p = policy('rules:\n  - {id: small, limits: {maxRequestBytes: 100}}\n');

  it('a body over maxRequestBytes is refused as request_too_large; at the limit it passes', () => {
    const over = evaluatePolicy(p, facts(), undefined, new PolicyBuckets(), false, { bodySize: 101 });
    expect(over.block?.code).toBe('request_too_large');
    expect(over.record).toEqual({ decisions: [{ rule: 'small', kind: 'limits', action: 'block', enforced: true, limit: 'requestBytes', from: 101, to: 100 }], blocked: 'request_too_large' });
    expect(evaluatePolicy(p, facts(), undefined, new PolicyBuckets(), false, { bodySize: 100 }).block).toBeUndefined();
  });
});

describe('limits after redaction', () => {
  it('a request refused by a limit still hands back the redacted body (what the archive keeps)', () => {
    const p = policy('rules:\n  - {id: pii, redact: {detectors: [email]}}\n  - {id: small, limits: {maxRequestBytes: 10}}\n');
    const body = { model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'mail jane.roe@example.org' }] };
    const out = evaluatePolicy(p, facts(), body, new PolicyBuckets(), false, { bodySize: 200 });
    expect(out.block?.code).toBe('request_too_large');
    expect(JSON.stringify(out.changedBody)).toContain('[REDACTED:email:1]');
    expect(out.record.decisions.map((d) => d.rule)).toEqual(['pii', 'small']);
  });
});

describe('limits: max tokens', () => {
  const clamp = policy('rules:\n  - {id: cap, limits: {maxTokens: 256}}\n');

  it('every API\'s field is clamped in the parsed body and recorded', () => {
    const bodies: [Record<string, unknown>, string][] = [
      [{ max_tokens: 4096 }, 'max_tokens'],
      [{ max_completion_tokens: 1000 }, 'max_completion_tokens'],
      [{ max_output_tokens: 300 }, 'max_output_tokens'],
      [{ generationConfig: { maxOutputTokens: 8192, temperature: 0 } }, 'generationConfig.maxOutputTokens'],
      [{ inferenceConfig: { maxTokens: 999 } }, 'inferenceConfig.maxTokens'],
      [{ options: { num_predict: 512 } }, 'options.num_predict'],
    ];
    for (const [body, field] of bodies) {
      const out = evaluateLimits(clamp.limits, facts(), body, 10);
      expect(out.decisions).toMatchObject([{ rule: 'cap', action: 'clamp', enforced: true, limit: 'maxTokens', field, to: 256 }]);
      expect(JSON.stringify(body)).toContain('256');
    }
  });

  it('at or under the cap, or no field at all: nothing happens', () => {
    expect(evaluateLimits(clamp.limits, facts(), { max_tokens: 256 }, 10)).toEqual({ decisions: [], clamps: [] });
    expect(evaluateLimits(clamp.limits, facts(), { messages: [] }, 10)).toEqual({ decisions: [], clamps: [] });
  });

  it('onMaxTokens: block refuses with max_tokens_exceeded; monitor mode changes nothing', () => {
    const block = policy('rules:\n  - {id: cap, limits: {maxTokens: 256, onMaxTokens: block}}\n');
    expect(evaluatePolicy(block, facts(), { max_tokens: 1000 }, new PolicyBuckets()).block?.code).toBe('max_tokens_exceeded');
    const monitor = policy('rules:\n  - {id: cap, mode: monitor, limits: {maxTokens: 256}}\n');
    const body = { max_tokens: 1000 };
    const out = evaluatePolicy(monitor, facts(), body, new PolicyBuckets());
    expect(out.record.decisions).toMatchObject([{ action: 'clamp', enforced: false, from: 1000, to: 256 }]);
    expect([body.max_tokens, out.clamps, out.record.bodyChanged]).toEqual([1000, undefined, undefined]);
  });

  it('the token rate limit\'s pre-check sees the clamped value', () => {
    const p = policy('rules:\n  - {id: cap, limits: {maxTokens: 100}}\n  - {id: tpm, rateLimit: {tokensPerMinute: 150}}\n');
    expect(evaluatePolicy(p, facts(), { max_tokens: 1000 }, new PolicyBuckets()).block).toBeUndefined();
  });
});

describe('the clamped body on the wire', () => {
  it('keeps every other byte (whitespace, key order) and fixes Content-Length', () => {
    const text = '{\n  "model" : "gpt-4o-mini",\n  "max_tokens":   4096,\n  "messages": [{"role":"user","content":"hi"}]\n}';
    const p = policy('rules:\n  - {id: cap, limits: {maxTokens: 256}}\n');
    const ex = makeExchange({ provider: 'openai', api: 'chat.completions', request: { path: '/v1/chat/completions', model: 'gpt-4o-mini' } });
    ex.request.body.size = Buffer.byteLength(text);
    const decoded = Buffer.from(text);
    const out = applyPolicy({ policy: p, buckets: new PolicyBuckets() }, ex, ['Content-Type', 'application/json', 'Content-Length', String(decoded.length)], decoded);
    expect(out.body?.toString()).toBe(text.replace('4096', '256'));
    expect(out.headers).toEqual(['Content-Type', 'application/json', 'Content-Length', String(out.body!.length)]);
    expect(ex.policy).toEqual({ decisions: [{ rule: 'cap', kind: 'limits', action: 'clamp', enforced: true, limit: 'maxTokens', field: 'max_tokens', from: 4096, to: 256 }], bodyChanged: true });
  });

  it('a duplicated key (JSON.parse keeps the last) is re-serialised so the cap still holds', () => {
    const text = '{"max_tokens":10,"max_tokens":9999}';
    const body = JSON.parse(text) as Record<string, unknown>;
    const { clamps } = evaluateLimits(policy('rules:\n  - {limits: {maxTokens: 256}}\n').limits, facts(), body, 10);
    const sent = JSON.parse(clampedBody(Buffer.from(text), body, clamps).toString()) as { max_tokens: number };
    expect(sent.max_tokens).toBe(256);
  });
});
