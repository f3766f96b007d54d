import { describe, expect, it } from 'vitest';
import { decisionLines } from '../../src/cli/render/policy-text.js';
import { makeExchange } from '../../src/exchange.js';
import { archivedRequest } from '../../src/policy/archived-request.js';
import { evaluatePolicy, factsOf, PolicyBuckets } from '../../src/policy/evaluate.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { refusalMessage } from '../../src/policy/refusal-message.js';
import { evaluateRouting } from '../../src/policy/routing.js';
import { SIGNED_NOT_APPLIED, signedReason } from '../../src/policy/signed-request.js';
import type { MatchFacts } from '../../src/policy/types.js';
import { exchangeToRow } from '../../src/recorder/rows.js';

const SIGV4 = 'AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7FAKEKEY/20261207/us-west-2/bedrock/aws4_request, SignedHeaders=host;x-amz-date, Signature=abc123';
const converse = '/model/amazon.nova-pro-v1:0/converse';
const bedrock: MatchFacts = { provider: 'bedrock', host: 'bedrock-runtime.us-west-2.amazonaws.com', path: converse, api: 'bedrock.converse', model: 'amazon.nova-pro-v1:0', client: '127.0.0.1', signed: SIGNED_NOT_APPLIED };
const body = () => ({ inferenceConfig: { maxTokens: 4096 }, messages: [{ role: 'user', content: [{ text: 'mail ada@example.com' }] }] });
const policy = (yaml: string) => loadPolicyText(yaml, 'policy.yaml');

describe('a signed request is told by the request itself', () => {
  it('SigV4 in Authorization or a presigned query signs it, whatever the provider; a Bearer key (a Bedrock API key) does not', () => {
    expect(signedReason(['Authorization', SIGV4], '/v1/x')).toBe(SIGNED_NOT_APPLIED);
    expect(signedReason(['authorization', 'aws4-hmac-sha256 Credential=…'], '/')).toBe(SIGNED_NOT_APPLIED);
    expect(signedReason([], '/model/m/converse?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=ab12')).toBe(SIGNED_NOT_APPLIED);
    expect(signedReason(['Authorization', 'Bearer bedrock-api-key-abc'], converse)).toBeUndefined();
    expect(signedReason([], '/v1/chat/completions?x-amz-signaturex=1')).toBeUndefined();
    const ex = makeExchange({ provider: 'openai', target: { host: 'api.example.com', port: 443, tls: true }, request: { method: 'POST', path: '/v1/chat/completions', headers: ['Authorization', SIGV4] } });
    expect(factsOf(ex, new Map()).signed).toBe(SIGNED_NOT_APPLIED);
  });

  it('an archived request (credential values redacted) is signed by an Authorization beside x-amz-date', () => {
    const row = (headers: string[]) => exchangeToRow(makeExchange({ provider: 'bedrock', target: { host: bedrock.host, port: 443, tls: true }, request: { method: 'POST', path: converse, headers } }));
    expect(archivedRequest(row(['Authorization', SIGV4, 'X-Amz-Date', '20261207T081500Z']), new Map()).facts.signed).toBe(SIGNED_NOT_APPLIED);
    expect(archivedRequest(row(['Authorization', 'Bearer bedrock-api-key-abc']), new Map()).facts.signed).toBeUndefined();
  });
});

describe('rules that would rewrite a signed request', () => {
  it('redact (replace) that fires refuses with content_blocked, the decision saying why; the archive still gets placeholders', () => {
    const out = evaluatePolicy(policy('rules:\n  - {id: pii, redact: {detectors: [email]}}\n'), bedrock, body(), new PolicyBuckets());
    expect(out.block?.code).toBe('content_blocked');
    expect(out.record.decisions).toEqual([{ rule: 'pii', kind: 'redact', action: 'replace', enforced: true, hits: [{ detector: 'email', at: 'messages[0].content[0].text', count: 1 }], notApplied: SIGNED_NOT_APPLIED }]);
    expect(JSON.stringify(out.changedBody)).toContain('[REDACTED:email:1]');
    expect(decisionLines(out.record)).toEqual([`pii · redact replace · email×1 at messages[0].content[0].text · not replaced (${SIGNED_NOT_APPLIED}); refused`, 'refused: content_blocked']);
    expect(refusalMessage('content_blocked', out.record.decisions, bedrock.model, 0)).toBe(`the request holds email (at messages[0].content[0].text) that llmtap policy rule "pii" replaces, and ${SIGNED_NOT_APPLIED}; refused rather than sent with it`);
  });

  it('redact that finds nothing, or in monitor mode, lets it go as sent; the same rule unsigned replaces', () => {
    const p = policy('rules:\n  - {id: pii, redact: {detectors: [email]}}\n');
    expect(evaluatePolicy(p, bedrock, { messages: [{ role: 'user', content: [{ text: 'hi' }] }] }, new PolicyBuckets()).block).toBeUndefined();
    const monitored = evaluatePolicy(policy('rules:\n  - {id: pii, mode: monitor, redact: {detectors: [email]}}\n'), bedrock, body(), new PolicyBuckets());
    expect([monitored.block, monitored.changedBody, monitored.record.decisions[0]]).toEqual([undefined, undefined, expect.not.objectContaining({ notApplied: expect.anything() })]);
    const unsigned = evaluatePolicy(p, { ...bedrock, signed: undefined }, body(), new PolicyBuckets());
    expect([unsigned.block, JSON.stringify(unsigned.changedBody).includes('[REDACTED:email:1]')]).toEqual([undefined, true]);
  });

  it('a maxTokens clamp is recorded as not applied and changes nothing; onMaxTokens: block still refuses', () => {
    const b = body();
    const out = evaluatePolicy(policy('rules:\n  - {id: cap, limits: {maxTokens: 100}}\n'), bedrock, b, new PolicyBuckets());
    expect([out.block, out.clamps, out.record.bodyChanged, b.inferenceConfig.maxTokens]).toEqual([undefined, undefined, undefined, 4096]);
    expect(out.record.decisions).toEqual([{ rule: 'cap', kind: 'limits', action: 'clamp', enforced: true, limit: 'maxTokens', field: 'inferenceConfig.maxTokens', from: 4096, to: 100, notApplied: SIGNED_NOT_APPLIED }]);
    expect(decisionLines(out.record)).toEqual([`cap · limits clamp · inferenceConfig.maxTokens 4096 → 100 not applied (${SIGNED_NOT_APPLIED})`]);
    expect(evaluatePolicy(policy('rules:\n  - {id: cap, limits: {maxTokens: 100, onMaxTokens: block}}\n'), bedrock, body(), new PolicyBuckets()).block?.code).toBe('max_tokens_exceeded');
  });

  it('a route model on another SigV4-signed service is not applied either', () => {
    const facts: MatchFacts = { host: 'runtime.sagemaker.us-east-1.amazonaws.com', path: '/endpoints/e/invocations', client: '127.0.0.1', model: 'm', signed: SIGNED_NOT_APPLIED };
    const out = evaluateRouting(policy('rules:\n  - {id: r, route: {model: other}}\n'), facts, { tls: true, host: facts.host, port: 443 });
    expect(out.decisions[0]).toMatchObject({ modelNotApplied: SIGNED_NOT_APPLIED });
    expect(out.plan!.hops[0]!.model).toBeUndefined();
  });
});

describe('a route path prefix on a signed request', () => {
  const target = { tls: true, host: bedrock.host, port: 443 };

  it('is not applied at the origin the client asked for (its signature covers the path there), and the decision says so', () => {
    const out = evaluateRouting(policy('rules:\n  - {id: p, route: {pathPrefix: /bedrock}}\n'), bedrock, target);
    expect(out.plan!.hops[0]!.pathPrefix).toBeUndefined();
    expect(out.decisions[0]).toMatchObject({ pathPrefix: '/bedrock', pathPrefixNotApplied: SIGNED_NOT_APPLIED });
    expect(decisionLines({ decisions: out.decisions })[0]).toBe(`p · route · path prefix /bedrock not applied (${SIGNED_NOT_APPLIED})`);
  });

  it('applies at another origin (which gets none of the client\'s credentials) and on an unsigned request', () => {
    const other = evaluateRouting(policy('rules:\n  - {id: p, route: {upstream: "https://gateway.example", pathPrefix: /bedrock}}\n'), bedrock, target);
    expect([other.plan!.hops[0]!.pathPrefix, other.decisions[0]]).toEqual(['/bedrock', expect.not.objectContaining({ pathPrefixNotApplied: expect.anything() })]);
    const unsigned = evaluateRouting(policy('rules:\n  - {id: p, route: {pathPrefix: /bedrock}}\n'), { ...bedrock, signed: undefined }, target);
    expect(unsigned.plan!.hops[0]!.pathPrefix).toBe('/bedrock');
  });
});

describe('loading warns about what cannot apply to signed Bedrock requests', () => {
  it('enforced replace redaction, an enforced clamp and credentials, when the match can select Bedrock; not otherwise', () => {
    const p = policy(`rules:
  - {id: pii, redact: {detectors: [email]}}
  - {id: keys, redact: {detectors: [api_key], action: block}}
  - {id: watch, mode: monitor, redact: {detectors: [email]}}
  - {id: openai-pii, match: {provider: openai}, redact: {detectors: [email]}}
  - {id: cap, limits: {maxTokens: 100}}
  - {id: hard-cap, limits: {maxTokens: 100, onMaxTokens: block}}
  - {id: key, match: {host: "*.amazonaws.com"}, credentials: {fromEnv: HOME}}
  - {id: okey, match: {host: api.openai.com}, credentials: {fromEnv: HOME}}
  - {id: prefix, route: {pathPrefix: /x}}
  - {id: away, route: {upstream: "https://gateway.example", pathPrefix: /x}}
`);
    expect(p.warnings?.map((w) => w.text)).toEqual([
      expect.stringMatching(/^policy\.yaml:2: rules\[0\]\.redact: cannot replace in Bedrock requests.*refuses the request \(content_blocked\)$/),
      expect.stringMatching(/^policy\.yaml:6: rules\[4\]\.limits\.maxTokens: is not applied to Bedrock requests/),
      expect.stringMatching(/^policy\.yaml:8: rules\[6\]\.credentials: replaces the SigV4 signature of Bedrock requests/),
      expect.stringMatching(/^policy\.yaml:10: rules\[8\]\.route\.pathPrefix: has no effect on signed Bedrock requests/),
    ]);
  });
});
