import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { GoogleGenAI } from '@google/genai';
import { getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { BLOCKED_PROMPT, GEMINI_TEXT } from '../helpers/fake-google.js';
import { ANTHROPIC_TEXT, startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { FAKE_HOSTS, startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const run = promisify(execFile);
const GOOGLE_HOSTS = ['generativelanguage.googleapis.com', 'cloudcode-pa.googleapis.com', 'us-east5-aiplatform.googleapis.com'];
const API_KEY = 'AIzaSyFAKEFAKEFAKEFAKEFAKEFAKEFAKE0123456';

describe('Google APIs through the proxy', () => {
  let fake: FakeProvider;
  let tp: TestProxy;
  let previous: Dispatcher;
  let caFile: string;

  beforeAll(async () => {
    fake = await startFakeProvider();
    tp = await startTestProxy(fake, { connectTo: [...FAKE_HOSTS, ...GOOGLE_HOSTS].map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`)) });
    caFile = join(tp.home, 'client-ca.pem');
    writeFileSync(caFile, tp.caPem);
    // Node 20's fetch ignores HTTPS_PROXY; the SDK uses the global fetch, which uses undici's global dispatcher.
    previous = getGlobalDispatcher();
    setGlobalDispatcher(tp.agent);
  });
  afterAll(async () => {
    setGlobalDispatcher(previous);
    await tp.close();
    await fake.close();
  });

  it('@google/genai generateContent and generateContentStream: model, text and usage in the archive, the key never', async () => {
    const ai = new GoogleGenAI({ apiKey: API_KEY });
    const once = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'hi' });
    expect(once.text).toBe(GEMINI_TEXT);
    let streamed = '';
    for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-pro', contents: 'hi' })) streamed += chunk.text ?? '';
    expect(streamed).toBe(GEMINI_TEXT);
    await eventually(() => expect(exported(tp).filter((e) => e.provider === 'gemini')).toHaveLength(2));
    const all = exported(tp).filter((e) => e.provider === 'gemini');
    expect(all.map((e) => [e.api, e.model, e.stream, e.response?.text, e.usage.input_tokens, e.usage.output_tokens, e.tool?.name])).toEqual([
      ['gemini.generateContent', 'gemini-2.5-flash', false, GEMINI_TEXT, 9, 12, 'google-genai-sdk-node'],
      ['gemini.generateContent', 'gemini-2.5-pro', true, GEMINI_TEXT, 9, 12, 'google-genai-sdk-node'],
    ]);
    expect(JSON.stringify(all)).not.toContain(API_KEY);
  });

  it('@google/genai embedContent: recorded as embeddings with the model from the path (the Gemini API counts no tokens)', async () => {
    const ai = new GoogleGenAI({ apiKey: API_KEY });
    const out = await ai.models.embedContent({ model: 'gemini-embedding-001', contents: ['hi', 'there'] });
    expect(out.embeddings).toHaveLength(2);
    const rec = await eventually(() => {
      const found = exported(tp).find((e) => e.path.includes('gemini-embedding-001'));
      if (!found) throw new Error('not recorded yet');
      return found;
    });
    expect([rec.provider, rec.api, rec.model, rec.usage.input_tokens]).toEqual(['gemini', 'embeddings', 'gemini-embedding-001', null]);
    expect(JSON.stringify(rec)).not.toContain(API_KEY);
  });

  it('@google/genai: a prompt blocked by the safety filters is recorded with its blockReason as the stop reason', async () => {
    const ai = new GoogleGenAI({ apiKey: API_KEY });
    const once = await ai.models.generateContent({ model: 'gemini-2.5-flash-lite', contents: BLOCKED_PROMPT });
    expect(once.promptFeedback?.blockReason).toBe('PROHIBITED_CONTENT');
    for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash-lite', contents: BLOCKED_PROMPT })) expect(chunk.candidates).toBeUndefined();
    const recs = await eventually(() => {
      const found = exported(tp).filter((e) => e.model === 'gemini-2.5-flash-lite' && e.client.user_agent?.includes('google-genai-sdk'));
      if (found.length < 2) throw new Error(`${found.length}/2`);
      return found;
    });
    expect(recs.map((e) => [e.stream, e.response?.text, e.response?.stop_reason, e.usage.input_tokens, e.usage.output_tokens])).toEqual([
      [false, '', 'PROHIBITED_CONTENT', 6, null],
      [true, '', 'PROHIBITED_CONTENT', 6, null],
    ]);
  });

  it('@google/genai with Google Search grounding: the tool-use prompt counts as input and is priced', async () => {
    const ai = new GoogleGenAI({ apiKey: API_KEY });
    const once = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents: 'who won yesterday?', config: { tools: [{ googleSearch: {} }] } });
    expect(once.usageMetadata?.toolUsePromptTokenCount).toBe(150);
    const rec = await eventually(() => {
      const found = exported(tp).find((e) => e.request?.body?.includes('who won yesterday?'));
      if (!found) throw new Error('not recorded yet');
      return found;
    });
    expect([rec.usage.input_tokens, rec.usage.output_tokens]).toEqual([159, 12]);
    // Gemini 2.5 Flash: $0.30 per million input tokens, $2.50 output.
    expect(rec.cost_usd).toBeCloseTo(159 * 0.3e-6 + 12 * 2.5e-6, 12);
  });

  it('curl: a JSON-array stream with ?key=, Code Assist SSE, and Vertex AI on a regional host', async () => {
    const common = ['-sS', '--fail-with-body', '--proxy', tp.url, '--cacert', caFile, '-H', 'content-type: application/json', '-A', 'curl-google'];
    const array = await run('curl', [...common, `https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-flash-lite:streamGenerateContent?key=${API_KEY}`, '-d', '{"contents":[{"parts":[{"text":"hi"}]}]}']);
    expect(array.stdout.startsWith('[')).toBe(true);
    await run('curl', [...common, 'https://cloudcode-pa.googleapis.com/v1internal:streamGenerateContent?alt=sse', '-d', '{"model":"gemini-2.5-pro","project":"p-1","request":{"contents":[]}}']);
    await run('curl', [...common, 'https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/google/models/gemini-2.5-flash:generateContent', '-d', '{"contents":[]}']);
    // Claude on Vertex AI: Messages bodies (no model field), the model in the path.
    await run('curl', [...common, '-N', 'https://us-east5-aiplatform.googleapis.com/v1/projects/p/locations/us-east5/publishers/anthropic/models/claude-sonnet-4-5@20250929:streamRawPredict', '-d', '{"anthropic_version":"vertex-2023-10-16","max_tokens":64,"stream":true,"messages":[]}']);
    const recs = await eventually(() => {
      const found = exported(tp).filter((e) => e.client.user_agent === 'curl-google');
      if (found.length < 4) throw new Error(`${found.length}/4`);
      return found;
    });
    expect(recs.map((e) => [e.provider, e.model, e.stream, e.response?.text, e.usage.output_tokens])).toEqual([
      ['gemini', 'gemini-2.5-flash-lite', true, GEMINI_TEXT, 12],
      ['gemini-code-assist', 'gemini-2.5-pro', true, GEMINI_TEXT, 12],
      ['vertex-ai', 'gemini-2.5-flash', false, GEMINI_TEXT, 12],
      ['vertex-ai', 'claude-sonnet-4-5@20250929', true, ANTHROPIC_TEXT, 9],
    ]);
    expect(JSON.stringify(recs)).not.toContain(API_KEY);
  });
});
