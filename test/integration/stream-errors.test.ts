import { BedrockRuntimeClient, ConverseStreamCommand } from '@aws-sdk/client-bedrock-runtime';
import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI } from '@google/genai';
import OpenAI from 'openai';
import { NodeHttpHandler } from '@smithy/node-http-handler';
import { Writable } from 'node:stream';
import { fetch as undiciFetch, getGlobalDispatcher, setGlobalDispatcher, type Dispatcher } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listExchanges } from '../../src/archive/exchange-list.js';
import { statsTable } from '../../src/archive/stats-table.js';
import { parseConnectTo, paths } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { openArchive } from '../../src/recorder/db.js';
import { listItem } from '../../src/ui/server/list-item.js';
import { eventually, exported } from '../helpers/archive.js';
import { ConnectAgent } from '../helpers/connect-agent.js';
import { FAIL_MID_STREAM, RESET_MID_STREAM } from '../helpers/fake-faults.js';
import { RESPONSES_ERROR_PROMPT, RESPONSES_FAIL_PROMPT } from '../helpers/fake-openai-family.js';
import { ANTHROPIC_TEXT, OPENAI_TEXT, startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { FAKE_HOSTS, startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const GEMINI = 'generativelanguage.googleapis.com';
const BEDROCK = 'bedrock-runtime.us-east-1.amazonaws.com';

/**
 * A provider that fails after its 200 went out says so inside the stream. The official
 * SDKs throw; the archive keeps what arrived and records the provider's error as the
 * stop reason, so the exchange does not read as an answer that simply ended. The
 * relay itself finished (outcome `completed`, status 200): the stop reason is what
 * makes each one count as a failure wherever failures are counted.
 */
describe('mid-stream provider errors through the proxy', () => {
  let fake: FakeProvider;
  let tp: TestProxy;
  let previous: Dispatcher;
  let agent: ConnectAgent;
  const logs: string[] = [];

  beforeAll(async () => {
    fake = await startFakeProvider();
    const destination = new Writable({ write(chunk: Buffer, _enc, cb) { logs.push(chunk.toString()); cb(); } });
    tp = await startTestProxy(fake, { connectTo: [...FAKE_HOSTS, GEMINI, BEDROCK].map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`)) }, { logger: createLogger({ level: 'info', destination }) });
    previous = getGlobalDispatcher();
    setGlobalDispatcher(tp.agent);
    agent = new ConnectAgent({ host: '127.0.0.1', port: tp.proxy.address.port }, tp.caPem);
  });
  afterAll(async () => {
    setGlobalDispatcher(previous);
    agent?.destroy();
    await tp?.close();
    await fake?.close();
  });

  const recorded = (provider: string, prompt = FAIL_MID_STREAM) => eventually(() => {
    const found = exported(tp).find((e) => e.provider === provider && e.request?.body?.includes(prompt));
    if (!found) throw new Error(`no ${provider} exchange yet`);
    return found;
  });

  it('Anthropic: an error event (overloaded_error) is the stop reason', async () => {
    const client = new Anthropic({ apiKey: 'sk-ant-test-midstream-0123456789', maxRetries: 0, fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never });
    const stream = client.messages.stream({ model: 'claude-sonnet-4-5-20250929', max_tokens: 64, messages: [{ role: 'user', content: FAIL_MID_STREAM }] });
    await expect(stream.finalMessage()).rejects.toThrow(/Overloaded/);
    const rec = await recorded('anthropic');
    expect([rec.status, rec.outcome, rec.response?.text, rec.response?.stop_reason]).toEqual([200, 'completed', 'Bonjour', 'overloaded_error']);
  });

  const openai = () => new OpenAI({ apiKey: 'sk-proj-midstream-0123456789abcdef', maxRetries: 0, fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never });

  it('OpenAI Chat: an {error} chunk is the stop reason (its type)', async () => {
    const stream = await openai().chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: FAIL_MID_STREAM }] });
    let text = '';
    await expect((async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta?.content ?? '';
    })()).rejects.toThrow(/server had an error/);
    const rec = await recorded('openai');
    expect([rec.status, rec.outcome, rec.response?.text, rec.response?.stop_reason]).toEqual([200, 'completed', text, 'server_error']);
  });

  it('OpenAI Responses: response.failed and a stream-level error event are the stop reason', async () => {
    const types = async (input: string): Promise<string[]> => {
      const seen: string[] = [];
      for await (const event of await openai().responses.create({ model: 'gpt-5', stream: true, input })) seen.push(event.type);
      return seen;
    };
    expect((await types(RESPONSES_FAIL_PROMPT)).at(-1)).toBe('response.failed');
    expect((await types(RESPONSES_ERROR_PROMPT)).at(-1)).toBe('error');
    const failed = await recorded('openai', RESPONSES_FAIL_PROMPT);
    const errored = await recorded('openai', RESPONSES_ERROR_PROMPT);
    expect([failed.status, failed.outcome, failed.response?.stop_reason]).toEqual([200, 'completed', 'failed']);
    expect([errored.status, errored.outcome, errored.response?.text, errored.response?.stop_reason]).toEqual([200, 'completed', 'Respon', 'error']);
  });

  it('Gemini: an {error} chunk is the stop reason (its status)', async () => {
    const ai = new GoogleGenAI({ apiKey: 'AIzaSyFAKEFAKEMIDSTREAM0123456789abcde' });
    const text: string[] = [];
    await expect((async () => {
      for await (const chunk of await ai.models.generateContentStream({ model: 'gemini-2.5-flash', contents: FAIL_MID_STREAM })) text.push(chunk.text ?? '');
    })()).rejects.toThrow();
    expect(text.length).toBe(1);
    const rec = await recorded('gemini');
    expect([rec.status, rec.outcome, rec.response?.text, rec.response?.stop_reason]).toEqual([200, 'completed', text[0], 'INTERNAL']);
  });

  it('Bedrock ConverseStream: an exception frame is the stop reason (its type)', async () => {
    const client = new BedrockRuntimeClient({ region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: 'AKIAIOSFODNN7FAKEKEY', secretAccessKey: 'wJalrXUtnFEMIK7MDENGbPxRfiCYFAKEFAKEKEY0' }, requestHandler: new NodeHttpHandler({ httpsAgent: agent }) });
    const response = await client.send(new ConverseStreamCommand({ modelId: 'amazon.nova-lite-v1:0', messages: [{ role: 'user', content: [{ text: FAIL_MID_STREAM }] }] }));
    let text = '';
    await expect((async () => {
      for await (const event of response.stream ?? []) text += event.contentBlockDelta?.delta?.text ?? '';
    })()).rejects.toThrow(/failed mid-stream/);
    client.destroy();
    expect(text).toBe('Bedrock');
    const rec = await recorded('bedrock');
    expect([rec.status, rec.outcome, rec.response?.text, rec.response?.stop_reason]).toEqual([200, 'completed', 'Bedrock', 'modelStreamErrorException']);
  });

  // Runs after the tests above: every exchange they made ended in the provider's error.
  it('each counts as a failure: stats errors, --status error, the web UI list, the session, the proxy log', async () => {
    const ids = exported(tp).map((e) => e.id);
    expect(ids.length).toBe(6);
    // The proxy's line per exchange: at warn, as its own failures are, naming the provider's error after the 200.
    const lines = logs.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'exchange');
    expect(lines.map((l) => [l.level, l.status, l.error]).sort()).toEqual(exported(tp).map((e) => [40, 200, e.response?.stop_reason]).sort());
    // Its `in` is every prompt token, as tail, sessions and stats count them: Anthropic's cache reads beside input_tokens too.
    const claude = exported(tp).find((e) => e.provider === 'anthropic')!;
    const { input_tokens: input, cached_input_tokens: cached, cache_creation_input_tokens: written } = claude.usage;
    expect(cached).toBeGreaterThan(0);
    expect(lines.find((l) => l.host === 'api.anthropic.com')?.in).toBe((input ?? 0) + (cached ?? 0) + (written ?? 0));
    const archive = openArchive(paths(tp.home).archive);
    const { db } = archive;
    try {
      const { total } = statsTable(db, { by: 'model' });
      expect([total?.requests, total?.errors]).toEqual([6, 6]);
      expect(statsTable(db, { by: 'model', status: 'error' }).total?.requests).toBe(6);
      const listed = listExchanges(db, { status: 'error', limit: 50 });
      expect(listed.map((e) => e.id).sort()).toEqual([...ids].sort());
      expect(listed.map((e) => listItem(e).failed)).toEqual(listed.map(() => true));
      expect(db.prepare('SELECT SUM(errors) AS errors, SUM(exchanges) AS exchanges FROM sessions').get()).toEqual({ errors: 6, exchanges: 6 });
    } finally {
      archive.close();
    }
  });

  // After the count above. The provider's 200 and part of its stream went out, then its
  // connection broke: the SDK throws; the archive reads what arrived, as for a client that left.
  it('an upstream connection that breaks mid-answer: what arrived is read, and the rest estimated', async () => {
    const chat = await openai().chat.completions.create({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: RESET_MID_STREAM }] });
    let text = '';
    await expect((async () => {
      for await (const chunk of chat) text += chunk.choices[0]?.delta?.content ?? '';
    })()).rejects.toThrow();
    const claude = new Anthropic({ apiKey: 'sk-ant-test-midstream-0123456789', maxRetries: 0, fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never });
    await expect(claude.messages.stream({ model: 'claude-sonnet-4-5-20250929', max_tokens: 64, messages: [{ role: 'user', content: RESET_MID_STREAM }] }).finalMessage()).rejects.toThrow();
    const estimated = (provider: string) => eventually(() => {
      const r = exported(tp).find((e) => e.provider === provider && e.request?.body?.includes(RESET_MID_STREAM));
      if (!r?.usage_estimated) throw new Error(`no estimated ${provider} exchange yet`);
      return r;
    });
    const gpt = await estimated('openai');
    expect([gpt.status, gpt.outcome, gpt.error_code, gpt.response?.text]).toEqual([200, 'upstream_error', 'upstream_error', text]);
    expect(text.length).toBeGreaterThan(0);
    expect(OPENAI_TEXT.startsWith(text) && text !== OPENAI_TEXT).toBe(true);
    // No usage was reported: both sides estimated from the prompt and the text that arrived.
    expect(gpt.usage_estimated_part).toBe('all');
    expect(gpt.usage.input_tokens).toBeGreaterThan(0);
    expect(gpt.usage.output_tokens).toBeGreaterThan(0);
    const sonnet = await estimated('anthropic');
    expect([sonnet.status, sonnet.outcome, sonnet.usage_estimated_part]).toEqual([200, 'upstream_error', 'output']);
    expect(ANTHROPIC_TEXT.startsWith(sonnet.response?.text ?? '-')).toBe(true);
    // message_start's input as Anthropic reported it; the output counted from the text that arrived.
    expect(sonnet.usage.input_tokens).toBe(21);
    expect(sonnet.cost_usd).toBeGreaterThan(0);
  });
});
