import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { makeExchange } from '../../src/exchange.js';
import { LlmtapError } from '../../src/errors.js';
import { BUILT_IN_DETECTORS, ibanValid, luhn } from '../../src/policy/detectors.js';
import { evaluatePolicy, PolicyBuckets } from '../../src/policy/evaluate.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { CleanTexts, Placeholders, redactRequest, redactText } from '../../src/policy/redact-body.js';
import { applyPolicy } from '../../src/policy/stage.js';
import type { MatchFacts } from '../../src/policy/types.js';

const all = Object.values(BUILT_IN_DETECTORS);
const scrub = (s: string) => redactText(s, all, new Placeholders()).text;

describe('detectors', () => {
  it('finds each built-in shape', () => {
    expect(scrub('key sk-proj-abcdefghijklmnopqrstuvwx1234 here')).toBe('key [REDACTED:api_key:1] here');
    expect(scrub('AKIAABCDEFGHIJKLMNOP and ghp_abcdefghijklmnopqrstuvwxyz0123456789 and xoxb-1234567890-abcdef')).toBe('[REDACTED:api_key:1] and [REDACTED:api_key:2] and [REDACTED:api_key:3]');
    expect(scrub('AIzaSyA-abcdefghijklmnopqrstuvwxyz0123456')).toBe('[REDACTED:api_key:1]');
    // The archive's newer shapes too (one list: key-patterns.ts), the detector's pre-check included.
    expect(scrub(`ABSK${'QmVkcm9ja0FQSUtleS1'.repeat(4)} and pplx-${'a0AfH6SM'.repeat(5)} and fw_${'3ZxQ9'.repeat(5)}`)).toBe('[REDACTED:api_key:1] and [REDACTED:api_key:2] and [REDACTED:api_key:3]');
    expect(scrub('-----BEGIN RSA PRIVATE KEY-----\nMIIEow\n-----END RSA PRIVATE KEY-----')).toBe('[REDACTED:private_key:1]');
    expect(scrub('tok eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U')).toBe('tok [REDACTED:jwt:1]');
    expect(scrub('mail ann.lee+x@example.co.uk now')).toBe('mail [REDACTED:email:1] now');
    expect(scrub('card 4111 1111 1111 1111 ok; order 4111 1111 1111 1112')).toBe('card [REDACTED:card:1] ok; order 4111 1111 1111 1112');
    expect(scrub('iban DE89 3704 0044 0532 0130 00 vs DE00 3704 0044 0532 0130 00')).toBe('iban [REDACTED:iban:1] vs DE00 3704 0044 0532 0130 00');
    expect(scrub('host 192.168.1.20, version 1.2.3.4.5, 999.1.1.1')).toBe('host [REDACTED:ipv4:1], version 1.2.3.4.5, 999.1.1.1');
  });

  it('Luhn and IBAN checks', () => {
    expect([luhn('4242424242424242'), luhn('4242424242424241'), luhn('123')]).toEqual([true, false, false]);
    expect([ibanValid('GB82WEST12345698765432'), ibanValid('GB82WEST12345698765433')]).toEqual([true, false]);
  });

  it('the same value gets the same placeholder within a request', () => {
    const ph = new Placeholders();
    expect(redactText('a@x.io b@x.io a@x.io', all, ph).text).toBe('[REDACTED:email:1] [REDACTED:email:2] [REDACTED:email:1]');
    expect(redactText('again a@x.io', all, ph).text).toBe('again [REDACTED:email:1]');
  });
});

describe('request walking: message text only', () => {
  it('embeddings of every shape: OpenAI input, Gemini content, batch requests and title, Ollama\'s older prompt', () => {
    const gemini = { model: 'models/gemini-embedding-001', taskType: 'RETRIEVAL_DOCUMENT', title: 'for a@x.io', content: { parts: [{ text: 'mail a@x.io' }] } };
    redactRequest('embeddings', gemini, all, new Placeholders(), true);
    expect(gemini).toEqual({ model: 'models/gemini-embedding-001', taskType: 'RETRIEVAL_DOCUMENT', title: 'for [REDACTED:email:1]', content: { parts: [{ text: 'mail [REDACTED:email:1]' }] } });
    const batch = { requests: [{ model: 'models/text-embedding-004', content: { parts: [{ text: 'b@x.io' }] } }] };
    redactRequest('embeddings', batch, all, new Placeholders(), true);
    expect(batch.requests[0]!.content.parts[0]!.text).toBe('[REDACTED:email:1]');
    const ollama = { model: 'nomic-embed-text', prompt: 'c@x.io' };
    redactRequest('embeddings', ollama, all, new Placeholders(), true);
    expect(ollama.prompt).toBe('[REDACTED:email:1]');
    const openai = { model: 'text-embedding-3-small', input: ['d@x.io'] };
    redactRequest('embeddings', openai, all, new Placeholders(), true);
    expect(openai.input).toEqual(['[REDACTED:email:1]']);
  });

  it('Chat Completions: content strings and text parts change; roles, names, images, model do not', () => {
    const body = {
      model: 'a@x.io',
      messages: [
        { role: 'system', content: 'reply to a@x.io' },
        { role: 'user', name: 'a@x.io', content: [{ type: 'text', text: 'my card 4242 4242 4242 4242' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,a@x.io' } }] },
      ],
    };
    const hits = redactRequest('chat.completions', body, all, new Placeholders(), true);
    expect(body).toEqual({
      model: 'a@x.io',
      messages: [
        { role: 'system', content: 'reply to [REDACTED:email:1]' },
        { role: 'user', name: 'a@x.io', content: [{ type: 'text', text: 'my card [REDACTED:card:1]' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,a@x.io' } }] },
      ],
    });
    expect(hits).toEqual([{ detector: 'email', at: 'messages[0].content', count: 1 }, { detector: 'card', at: 'messages[1].content[0].text', count: 1 }]);
  });

  it('Anthropic system + tool_result, Gemini parts, Responses input', () => {
    const anthropic = { system: [{ type: 'text', text: 'ip 10.0.0.1' }], messages: [{ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'x', content: 'a@x.io' }] }] };
    redactRequest('messages', anthropic, all, new Placeholders(), true);
    expect(JSON.stringify(anthropic)).toBe('{"system":[{"type":"text","text":"ip [REDACTED:ipv4:1]"}],"messages":[{"role":"user","content":[{"type":"tool_result","tool_use_id":"x","content":"[REDACTED:email:1]"}]}]}');
    const gemini = { contents: [{ role: 'user', parts: [{ text: 'a@x.io' }, { inlineData: { mimeType: 'text/plain', data: 'a@x.io' } }] }] };
    redactRequest('gemini.generateContent', gemini, all, new Placeholders(), true);
    expect(gemini.contents[0]!.parts).toEqual([{ text: '[REDACTED:email:1]' }, { inlineData: { mimeType: 'text/plain', data: 'a@x.io' } }]);
    const responses = { input: 'write to a@x.io', instructions: 'b@x.io' };
    redactRequest('responses', responses, all, new Placeholders(), true);
    expect(responses).toEqual({ input: 'write to [REDACTED:email:1]', instructions: '[REDACTED:email:2]' });
  });

  it('without apply (monitor, block) nothing changes but the hits are reported', () => {
    const body = { messages: [{ role: 'user', content: 'a@x.io' }] };
    expect(redactRequest('chat.completions', body, all, new Placeholders(), false)).toHaveLength(1);
    expect(body.messages[0]!.content).toBe('a@x.io');
  });
});

describe('texts already found clean (an agent resends its conversation every turn)', () => {
  const detectors = Object.values(BUILT_IN_DETECTORS);
  const padding = 'build log: step 1.2 of 9, port 8080, 2024 entries @ noon; '.repeat(6); // passes hints, holds nothing

  it('answers exactly as a first scan would, however often the same text comes back', () => {
    const secretish = fc.constantFrom('', 'jane@example.org', 'sk-proj-abcdefghijklmnopqrstuvwxyz0123', '4111 1111 1111 1111', 'GB82 WEST 1234 5698 7654 32', '10.1.2.3', 'just text');
    fc.assert(fc.property(fc.array(fc.tuple(secretish, fc.string({ maxLength: 40 })), { minLength: 1, maxLength: 6 }), (parts) => {
      const texts = parts.map(([s, t]) => `${padding}${t} ${s}`);
      const fresh = Object.values(BUILT_IN_DETECTORS).map((d) => ({ ...d })); // another list: nothing remembered for it
      for (const text of [...texts, ...texts, ...texts]) {
        const remembered = redactText(text, detectors, new Placeholders());
        const firstScan = redactText(text, fresh.map((d) => ({ ...d })), new Placeholders());
        expect(remembered.text).toBe(firstScan.text);
        expect([...remembered.fired]).toEqual([...firstScan.fired]);
      }
    }), { numRuns: 200 });
  });

  it('never remembers a text with a hit: it is replaced on every request', () => {
    const text = `${padding} mail jane@example.org`;
    for (let i = 0; i < 3; i++) {
      const body = { messages: [{ role: 'user', content: text }] };
      expect(redactRequest('chat.completions', body, detectors, new Placeholders(), true)).toEqual([{ detector: 'email', at: 'messages[0].content', count: 1 }]);
      expect(body.messages[0]!.content).toBe(`${padding} mail [REDACTED:email:1]`);
    }
  });

  it('keeps two generations: a text seen in the older one comes back to the young one, the generation before is dropped', () => {
    const clean = new CleanTexts();
    const text = (i: number): string => `${i}`.padEnd(CleanTexts.GENERATION_CHARS / 4, 'x');
    for (let i = 0; i < 4; i++) clean.add(text(i)); // fills the young generation
    expect(clean.has(text(0))).toBe(true);
    clean.add(text(4)); // young → old
    expect(clean.has(text(1))).toBe(true); // found in the old one: moved back to the young one
    for (let i = 5; i < 8; i++) clean.add(text(i)); // young full again → old; the older generation is dropped
    clean.add(text(8));
    expect(clean.has(text(2))).toBe(false);
    expect(clean.has(text(1))).toBe(true);
    expect(clean.has('x'.repeat(CleanTexts.GENERATION_CHARS / 4 + 1))).toBe(false);
    clean.add('x'.repeat(CleanTexts.GENERATION_CHARS / 4 + 1)); // too long to keep
    expect(clean.has('x'.repeat(CleanTexts.GENERATION_CHARS / 4 + 1))).toBe(false);
  });
});

describe('redact rules', () => {
  const facts: MatchFacts = { provider: 'openai', host: 'api.openai.com', path: '/v1/chat/completions', api: 'chat.completions', client: '127.0.0.1' };

  it('custom patterns, block mode, and a record that holds no secret', () => {
    const p = loadPolicyText('rules:\n  - {id: tickets, match: {model: nope}, redact: {action: block}}\n  - id: internal\n    redact:\n      detectors: [email]\n      patterns: [{name: ticket, regex: "TCK-[0-9]+"}]\n', 'p.yaml');
    const body = { messages: [{ role: 'user', content: 'see TCK-991 from bob@corp.example' }] };
    const out = evaluatePolicy(p, facts, body, new PolicyBuckets());
    expect(body.messages[0]!.content).toBe('see [REDACTED:ticket:1] from [REDACTED:email:1]');
    expect(JSON.stringify(out.record)).not.toMatch(/TCK-991|bob@corp/);
    expect(out.record).toEqual({ decisions: [{ rule: 'internal', kind: 'redact', action: 'replace', enforced: true, hits: [{ detector: 'email', at: 'messages[0].content', count: 1 }, { detector: 'ticket', at: 'messages[0].content', count: 1 }] }], bodyChanged: true });
    const block = loadPolicyText('rules:\n  - {id: dlp, redact: {detectors: [api_key], action: block}}\n', 'p.yaml');
    const secret = { messages: [{ role: 'user', content: 'use sk-ant-api03-abcdefghijklmnopqrstuvwxyz' }] };
    const refused = evaluatePolicy(block, facts, secret, new PolicyBuckets());
    expect(refused.block?.code).toBe('content_blocked');
    // Refused, and kept for the archive with placeholders: never what the rule said must not leave.
    expect(secret.messages[0]!.content).toBe('use [REDACTED:api_key:1]');
    expect(refused.changedBody).toBe(secret);
    // In monitor mode nothing changes: the request goes out as sent.
    const watched = { messages: [{ role: 'user', content: 'use sk-ant-api03-abcdefghijklmnopqrstuvwxyz' }] };
    const monitor = loadPolicyText('rules:\n  - {id: dlp, mode: monitor, redact: {detectors: [api_key], action: block}}\n', 'p.yaml');
    expect(evaluatePolicy(monitor, facts, watched, new PolicyBuckets()).changedBody).toBeUndefined();
    expect(watched.messages[0]!.content).toContain('sk-ant-api03');
  });

  it('text Completions (Copilot\'s inline suggestions): the prompt and the suffix change; model, stop and extra do not', () => {
    const copilot = { prompt: '# mail a@x.io', suffix: '\n// b@x.io', stop: ['a@x.io'], extra: { language: 'a@x.io' }, model: 'a@x.io' };
    const hits = redactRequest('completions', copilot, all, new Placeholders(), true);
    expect(copilot).toEqual({ prompt: '# mail [REDACTED:email:1]', suffix: '\n// [REDACTED:email:2]', stop: ['a@x.io'], extra: { language: 'a@x.io' }, model: 'a@x.io' });
    expect(hits.map((h) => h.at)).toEqual(['prompt', 'suffix']);
    const many = { prompt: ['c@x.io', [1, 2]] };
    redactRequest('completions', many, all, new Placeholders(), true);
    expect(many.prompt).toEqual(['[REDACTED:email:1]', [1, 2]]);
  });

  it('on an endpoint of no known shape (batches, assistants), every string value of the JSON is read as text', () => {
    const p = loadPolicyText('rules:\n  - {id: pii, redact: {detectors: [email, card]}}\n', 'p.yaml');
    const legacy = { model: 'gpt-3.5-turbo-instruct', prompt: 'mail jo@corp.example', max_tokens: 5 };
    const hits = evaluatePolicy(p, { ...facts, api: 'other' }, legacy, new PolicyBuckets()).record.decisions;
    expect(legacy).toEqual({ model: 'gpt-3.5-turbo-instruct', prompt: 'mail [REDACTED:email:1]', max_tokens: 5 });
    expect(hits).toMatchObject([{ rule: 'pii', hits: [{ detector: 'email', at: 'prompt' }] }]);
    const batch = { requests: [{ custom_id: 'a-1', params: { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'charge 4111 1111 1111 1111' }] } }] };
    evaluatePolicy(p, { ...facts, api: 'other' }, batch, new PolicyBuckets());
    expect(batch.requests[0]!).toEqual({ custom_id: 'a-1', params: { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'charge [REDACTED:card:1]' }] } });
  });

  it('every matching redact rule applies, in order: one refusing keys and another replacing personal data both work', () => {
    const p = loadPolicyText('rules:\n  - {id: no-keys, redact: {detectors: [api_key], action: block}}\n  - {id: pii, redact: {detectors: [email]}}\n', 'p.yaml');
    const mail = { messages: [{ role: 'user', content: 'mail jo@corp.example' }] };
    const mailed = evaluatePolicy(p, facts, mail, new PolicyBuckets());
    expect(mailed.block).toBeUndefined();
    expect(mail.messages[0]!.content).toBe('mail [REDACTED:email:1]');
    expect(mailed.record.decisions.map((d) => d.rule)).toEqual(['pii']);
    const both = { messages: [{ role: 'user', content: 'mail jo@corp.example the key sk-ant-api03-abcdefghijklmnopqrstuvwxyz' }] };
    const refused = evaluatePolicy(p, facts, both, new PolicyBuckets());
    expect(refused.block?.code).toBe('content_blocked');
    expect(refused.record.decisions.map((d) => d.rule)).toEqual(['no-keys']);
    expect(JSON.stringify(both)).not.toContain('sk-ant-api03');
  });

  it('reads a tool call\'s arguments and a tool\'s result as text whatever their keys, never their keys or the structure', () => {
    const p = loadPolicyText('rules:\n  - {id: r, redact: {detectors: [api_key, email]}}\n', 'p.yaml');
    const key = 'sk-proj-abcdefghijklmnopqrstuvwx0123456789ABCD';
    const anthropic = { messages: [{ role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: `curl -H "Authorization: Bearer ${key}"`, env: { to: 'jo@corp.example' } } }] }] };
    const hits = evaluatePolicy(p, { ...facts, api: 'messages' }, anthropic, new PolicyBuckets()).record.decisions[0]!;
    expect(JSON.stringify(anthropic)).not.toMatch(/sk-proj-abcdef|jo@corp/);
    expect(anthropic.messages[0]!.content[0]!).toMatchObject({ type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'curl -H "Authorization: [REDACTED:api_key:1]"', env: { to: '[REDACTED:email:1]' } } });
    expect(hits).toMatchObject({ hits: [{ detector: 'api_key', at: 'messages[0].content[0].input.command' }, { detector: 'email', at: 'messages[0].content[0].input.env.to' }] });
    const gemini = { contents: [{ role: 'model', parts: [{ functionCall: { name: 'send', args: { address: 'jo@corp.example' } } }] }, { role: 'user', parts: [{ functionResponse: { name: 'send', response: { sent_to: 'jo@corp.example' } } }] }] };
    evaluatePolicy(p, { ...facts, api: 'gemini.generateContent' }, gemini, new PolicyBuckets());
    expect(JSON.stringify(gemini)).not.toContain('jo@corp');
    expect(JSON.stringify(gemini)).toContain('"functionCall":{"name":"send","args":{"address":"[REDACTED:email:1]"}}');
  });

  it('the stage re-serialises only when something changed, fixing Content-Length and dropping the coding', () => {
    const p = loadPolicyText('rules:\n  - {id: r, redact: {detectors: [email]}}\n', 'p.yaml');
    const runtime = { policy: p, buckets: new PolicyBuckets() };
    const clean = Buffer.from('{ "model" : "gpt-4o",\n "messages": [{"role":"user","content":"hi"}] }');
    const ex = makeExchange({ api: 'chat.completions', provider: 'openai' });
    expect(applyPolicy(runtime, ex, ['content-length', String(clean.length)], clean).body).toBeUndefined();
    const dirty = Buffer.from('{"messages":[{"role":"user","content":"mail a@x.io"}]}');
    const ex2 = makeExchange({ api: 'chat.completions', provider: 'openai' });
    const res = applyPolicy(runtime, ex2, ['Content-Length', String(dirty.length), 'Content-Encoding', 'gzip', 'X-Other', '1'], dirty);
    expect(res.body?.toString()).toBe('{"messages":[{"role":"user","content":"mail [REDACTED:email:1]"}]}');
    expect(res.headers).toEqual(['Content-Length', String(res.body!.length), 'X-Other', '1']);
    expect(ex2.policy?.bodyChanged).toBe(true);
    const denied = loadPolicyText('rules:\n  - {id: d, action: deny}\n', 'p.yaml');
    const ex3 = makeExchange({ api: 'chat.completions', provider: 'openai' });
    const err = applyPolicy({ policy: denied, buckets: new PolicyBuckets() }, ex3, [], undefined).error;
    expect(err).toBeInstanceOf(LlmtapError);
    expect([err?.code, err?.status, ex3.policy?.blocked]).toEqual(['model_not_allowed', 403, 'model_not_allowed']);
    // Redacted, then refused by a rate limit: the redacted body still comes back, for the record.
    const both = loadPolicyText('rules:\n  - {id: r, redact: {detectors: [email]}}\n  - {id: l, rateLimit: {requestsPerMinute: 1}}\n', 'p.yaml');
    const rt = { policy: both, buckets: new PolicyBuckets(() => 0) };
    applyPolicy(rt, makeExchange({ api: 'chat.completions' }), [], Buffer.from('{"messages":[]}'));
    const limited = applyPolicy(rt, makeExchange({ api: 'chat.completions' }), [], Buffer.from('{"messages":[{"role":"user","content":"b@x.io"}]}'));
    expect([limited.error?.code, limited.body?.toString()]).toEqual(['rate_limited', '{"messages":[{"role":"user","content":"[REDACTED:email:1]"}]}']);
  });
});

describe('block answers in each provider\'s shape', () => {
  it('model_not_allowed, content_blocked and rate_limited for OpenAI, Anthropic, Gemini/Vertex and Bedrock', async () => {
    const { providerErrorBody, providerErrorHeaders } = await import('../../src/errors.js');
    expect(JSON.parse(providerErrorBody('openai', 'model_not_allowed', 'no'))).toEqual({ error: { message: 'no (model_not_allowed)', type: 'llmtap_error', param: null, code: 'model_not_allowed' } });
    expect(JSON.parse(providerErrorBody('anthropic', 'content_blocked', 'no'))).toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'no (content_blocked)' } });
    expect(JSON.parse(providerErrorBody('vertex-ai', 'model_not_allowed', 'no'))).toEqual({ error: { code: 403, message: 'no (model_not_allowed)', status: 'PERMISSION_DENIED' } });
    expect(JSON.parse(providerErrorBody('bedrock', 'rate_limited', 'no'))).toEqual({ message: 'no (rate_limited)' });
    expect(providerErrorHeaders('bedrock', 'rate_limited')['x-amzn-errortype']).toMatch(/^ThrottlingException:/);
    expect(providerErrorHeaders('openai', 'rate_limited')).toEqual({});
  });
});

describe('bodies redaction cannot read', () => {
  it('a block rule refuses them (fail closed); a replace rule forwards them and records that it could not look', () => {
    const sent = Buffer.from('not json, or bytes in a coding llmtap cannot undo: sk-proj-abcdefghijklmnopqrstuvwxyz');
    const ex = () => makeExchange({ api: 'chat.completions', provider: 'openai', request: { body: { bytes: sent, size: sent.length, truncated: false } } });
    const block = { policy: loadPolicyText('rules:\n  - {id: dlp, redact: {action: block}}\n', 'p.yaml'), buckets: new PolicyBuckets() };
    const e1 = ex();
    expect(applyPolicy(block, e1, [], undefined).error?.code).toBe('content_blocked');
    expect(e1.policy?.decisions).toEqual([{ rule: 'dlp', kind: 'redact', action: 'block', enforced: true, hits: [{ detector: 'unreadable', at: 'body', count: 1 }] }]);
    const replace = { policy: loadPolicyText('rules:\n  - {id: pii, redact: {}}\n', 'p.yaml'), buckets: new PolicyBuckets() };
    const e2 = ex();
    const r = applyPolicy(replace, e2, [], sent);
    expect([r.error, r.body]).toEqual([undefined, undefined]);
    expect(e2.policy?.decisions[0]).toMatchObject({ rule: 'pii', hits: [{ detector: 'unreadable' }] });
    // An API without message text (say a model list) is not "unreadable".
    const e3 = makeExchange({ api: 'other', request: { body: { bytes: sent, size: sent.length, truncated: false } } });
    expect(applyPolicy(block, e3, [], undefined).error).toBeUndefined();
  });

  it('a multipart body is an upload only where the API takes uploads: to Chat Completions a block rule still refuses it', () => {
    // The key inside a file part: an upload's files are never read (its text fields are: policy-redact-form.test.ts).
    const sent = Buffer.from('--b\r\nContent-Disposition: form-data; name="image"; filename="a.png"\r\n\r\nsk-proj-abcdefghijklmnopqrstuvwxyz\r\n--b--\r\n');
    const block = { policy: loadPolicyText('rules:\n  - {id: dlp, redact: {action: block}}\n', 'p.yaml'), buckets: new PolicyBuckets() };
    const upload = (api: 'chat.completions' | 'images') => makeExchange({ api, provider: 'openai', request: { headers: ['content-type', 'multipart/form-data; boundary=b'], body: { bytes: sent, size: sent.length, truncated: false } } });
    expect(applyPolicy(block, upload('chat.completions'), [], sent).error?.code).toBe('content_blocked');
    expect(applyPolicy(block, upload('images'), [], sent).error).toBeUndefined();
  });
});
