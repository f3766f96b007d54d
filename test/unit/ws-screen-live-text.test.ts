import { describe, expect, it } from 'vitest';
import { makeExchange, type WsMessageRecord } from '../../src/exchange.js';
import { PolicyBuckets } from '../../src/policy/evaluate.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { judgeSessionMessage } from '../../src/policy/session-request.js';
import { screenMessage } from '../../src/proxy/ws-screen.js';

const KEY = 'sk-proj-' + 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6';
const msg = (text: string, truncated = false): WsMessageRecord => ({ seq: 0, direction: 'client', at: 0, opcode: 1, size: text.length, compressed: false, truncated, text });
const binary = (text: string): WsMessageRecord => ({ seq: 0, direction: 'client', at: 0, opcode: 2, size: text.length, compressed: false, truncated: false, base64: Buffer.from(text).toString('base64') });
const liveFacts = { host: 'generativelanguage.googleapis.com', path: '/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent', api: 'gemini.live' as const, client: '127.0.0.1' };
const BLOCK = loadPolicyText('rules:\n  - {id: no-keys, redact: {detectors: [api_key], action: block}}\n', 'p.yaml');

describe('the redact rules that block, on a Gemini Live session\'s messages', () => {
  it('read a turn\'s text, realtime text, a tool\'s answer and the setup\'s system instruction; never base64 audio or inline data', () => {
    const verdict = (event: Record<string, unknown>) => judgeSessionMessage(BLOCK, liveFacts, event);
    expect(verdict({ clientContent: { turns: [{ role: 'user', parts: [{ text: `my key is ${KEY}` }] }], turnComplete: true } })).toEqual({
      decisions: [{ rule: 'no-keys', kind: 'redact', action: 'block', enforced: true, hits: [{ detector: 'api_key', at: 'clientContent.turns[0].parts[0].text', count: 1 }] }],
      block: 'content_blocked',
    });
    expect(verdict({ realtimeInput: { text: KEY } }).block).toBe('content_blocked');
    expect(verdict({ toolResponse: { functionResponses: [{ id: 'c1', name: 'env', response: { output: { OPENAI_API_KEY: KEY } } }] } }).block).toBe('content_blocked');
    expect(verdict({ setup: { model: 'models/gemini-live-2.5-flash-preview', systemInstruction: { parts: [{ text: `use ${KEY}` }] } } }).block).toBe('content_blocked');
    // Base64 that happens to spell a key prefix is audio or an image, not text.
    const lookalike = Buffer.from('AKIA' + 'Q'.repeat(60)).toString('base64').replace(/^/, 'AKIAIOSFODNN7EXAMPLE');
    expect(verdict({ realtimeInput: { audio: { data: lookalike, mimeType: 'audio/pcm;rate=16000' }, mediaChunks: [{ data: lookalike, mimeType: 'image/jpeg' }] } })).toEqual({ decisions: [] });
    expect(verdict({ clientContent: { turns: [{ role: 'user', parts: [{ inlineData: { data: lookalike, mimeType: 'image/png' } }, { text: 'what is this?' }] }] } })).toEqual({ decisions: [] });
  });

  it('refuse such a message after the setup: the session ends (content_blocked), the record keeps placeholders, also for JSON in a binary frame', () => {
    const runtime = { policy: BLOCK, buckets: new PolicyBuckets() };
    const ex = makeExchange({ api: 'gemini.live' });
    const setup = screenMessage(msg(JSON.stringify({ setup: { model: 'models/gemini-live-2.5-flash-preview' } })), runtime, liveFacts, ex);
    expect(setup).toEqual({ tokenCharges: [], model: 'gemini-live-2.5-flash-preview' });
    expect(screenMessage(msg('{"clientContent":{"turns":[{"role":"user","parts":[{"text":"hello"}]}],"turnComplete":true}}'), runtime, liveFacts, ex)).toEqual({});
    const turn = msg(JSON.stringify({ clientContent: { turns: [{ role: 'user', parts: [{ text: `key ${KEY}` }] }], turnComplete: true } }));
    expect(screenMessage(turn, runtime, liveFacts, ex, Date.now(), 'gemini-live-2.5-flash-preview')).toEqual({ refusal: { code: 'content_blocked' } });
    expect(turn.text).not.toContain(KEY);
    expect(turn.text).toContain('[REDACTED:api_key:1]');
    const framed = binary(JSON.stringify({ realtimeInput: { text: KEY } }));
    expect(screenMessage(framed, runtime, liveFacts, ex).refusal).toEqual({ code: 'content_blocked' });
    expect(Buffer.from(framed.base64!, 'base64').toString()).toBe('{"realtimeInput":{"text":"[REDACTED:api_key:1]"}}');
    expect(ex.policy?.decisions).toEqual([expect.objectContaining({ rule: 'no-keys', kind: 'redact', action: 'block', enforced: true })]);
  });

  it('judge by the session\'s model; a message cut at the capture limit cannot be read and is refused; monitor rules only record; no block rule, nothing parsed', () => {
    const byModel = loadPolicyText('rules:\n  - {id: pro-only, match: {model: "gemini-2.5-pro*"}, redact: {detectors: [email], action: block}}\n  - {id: watch, mode: monitor, redact: {detectors: [email], action: block}}\n', 'p.yaml');
    const runtime = { policy: byModel, buckets: new PolicyBuckets() };
    const ex = makeExchange({ api: 'gemini.live' });
    const mail = () => msg('{"realtimeInput":{"text":"write to jane@example.org"}}');
    expect(screenMessage(mail(), runtime, liveFacts, ex, Date.now(), 'gemini-live-2.5-flash-preview')).toEqual({});
    expect(ex.policy?.decisions).toEqual([expect.objectContaining({ rule: 'watch', enforced: false })]);
    expect(screenMessage(mail(), runtime, liveFacts, ex, Date.now(), 'gemini-2.5-pro-live').refusal).toEqual({ code: 'content_blocked' });
    expect(screenMessage(msg('{"realtimeInput":{"text":"aaaa', true), runtime, liveFacts, ex, Date.now(), 'gemini-2.5-pro-live').refusal).toEqual({ code: 'content_blocked' });
    // Replace rules do not apply inside a session (its messages are relayed as sent).
    const replace = { policy: loadPolicyText('rules:\n  - {id: pii, redact: {detectors: [email]}}\n', 'p.yaml'), buckets: new PolicyBuckets() };
    const untouched = mail();
    expect(screenMessage(untouched, replace, liveFacts, makeExchange({ api: 'gemini.live' }))).toEqual({});
    expect(untouched.text).toContain('jane@example.org');
  });
});
