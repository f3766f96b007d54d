import OpenAI from 'openai';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, OPENAI_TEXT, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

interface OtlpValue { stringValue?: string; intValue?: number | string; doubleValue?: number; boolValue?: boolean; arrayValue?: { values: OtlpValue[] } }
interface OtlpSpan { name: string; kind: number; startTimeUnixNano: string; endTimeUnixNano: string; attributes: Array<{ key: string; value: OtlpValue }>; status?: { code?: number } }
interface Received { path: string; contentType: string | undefined; body: string }

/** A local OTLP/HTTP collector: takes POST /v1/traces (JSON), keeps every body. */
async function startReceiver(): Promise<{ server: Server; url: string; received: Received[] }> {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      received.push({ path: req.url ?? '', contentType: req.headers['content-type'], body: Buffer.concat(chunks).toString('utf8') });
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1/traces`, received };
}

function spansOf(received: Received[]): OtlpSpan[] {
  return received.flatMap((r) => (JSON.parse(r.body) as { resourceSpans: Array<{ scopeSpans: Array<{ spans: OtlpSpan[] }> }> }).resourceSpans
    .flatMap((rs) => rs.scopeSpans.flatMap((ss) => ss.spans)));
}

function attrs(span: OtlpSpan): Record<string, unknown> {
  const plain = (v: OtlpValue): unknown => v.arrayValue ? v.arrayValue.values.map(plain) : v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.doubleValue ?? v.boolValue;
  return Object.fromEntries(span.attributes.map((a) => [a.key, plain(a.value)]));
}

const API_KEY = 'sk-test-otlp-0123456789abcdefghij';
const SECRET_IN_PROMPT = 'sk-proj-PASTEDKEYabcdefghijklmnop0123';

/** --otlp-endpoint: each recorded exchange reaches a local collector as a GenAI span. */
describe('OpenTelemetry export', () => {
  let fake: FakeProvider;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;

  beforeAll(async () => {
    fake = await startFakeProvider();
    receiver = await startReceiver();
  });
  afterAll(async () => {
    await fake.close();
    await new Promise((r) => receiver.server.close(r));
  });

  const chat = async (tp: TestProxy, stream: boolean): Promise<void> => {
    const client = new OpenAI({ apiKey: API_KEY, fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    const messages = [{ role: 'system' as const, content: 'be brief' }, { role: 'user' as const, content: `my key is ${SECRET_IN_PROMPT}` }];
    if (!stream) {
      await client.chat.completions.create({ model: 'gpt-4o-mini', messages });
      return;
    }
    const s = await client.chat.completions.create({ model: 'gpt-4o-mini', stream: true, stream_options: { include_usage: true }, messages });
    for await (const chunk of s) void chunk;
  };

  it('exports GenAI attributes, timings from the exchange, and no content or secret by default', async () => {
    receiver.received.length = 0;
    const tp = await startTestProxy(fake, { otlpEndpoint: receiver.url });
    const before = Date.now();
    try {
      await chat(tp, true);
      // The first record of a fresh proxy waits for its writer thread to open the archive and load the prices (seconds on a loaded machine).
      await eventually(() => expect(tp.proxy.recorder.stats().recorded).toBe(1), 15_000);
    } finally {
      await tp.close(); // shutdown sends what is batched (and a failed test leaves no span behind for the next)
    }
    const after = Date.now();
    expect(receiver.received.every((r) => r.path === '/v1/traces' && r.contentType === 'application/json')).toBe(true);
    const spans = spansOf(receiver.received);
    expect(spans).toHaveLength(1);
    const span = spans[0]!;
    expect(span.name).toBe('chat gpt-4o-mini');
    expect(span.kind).toBe(3); // SPAN_KIND_CLIENT
    const a = attrs(span);
    expect(a).toMatchObject({
      'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': 'openai', 'gen_ai.system': 'openai',
      'gen_ai.request.model': 'gpt-4o-mini', 'gen_ai.response.model': 'gpt-4o-mini',
      'gen_ai.usage.input_tokens': 11, 'gen_ai.usage.output_tokens': 17, 'gen_ai.response.finish_reasons': ['stop'],
      'gen_ai.request.stream': true, 'llmtap.tool.name': 'openai-sdk-node',
      'http.request.method': 'POST', 'http.response.status_code': 200, 'server.address': 'api.openai.com', 'server.port': 443, 'url.path': '/v1/chat/completions',
    });
    expect(a['gen_ai.response.time_to_first_chunk']).toBeGreaterThan(0);
    expect(a).not.toHaveProperty('gen_ai.input.messages');
    expect(a).not.toHaveProperty('gen_ai.output.messages');
    const start = Number(BigInt(span.startTimeUnixNano) / 1_000_000n);
    const end = Number(BigInt(span.endTimeUnixNano) / 1_000_000n);
    expect(start).toBeGreaterThanOrEqual(before - 1);
    expect(end).toBeGreaterThanOrEqual(start);
    expect(end).toBeLessThanOrEqual(after);
    const wire = receiver.received.map((r) => r.body).join('\n');
    expect(wire).not.toContain(API_KEY);
    expect(wire).not.toContain(SECRET_IN_PROMPT);
    expect(wire).not.toContain('be brief');
  });

  it('--otlp-content adds the prompt and the answer, redacted', async () => {
    receiver.received.length = 0;
    const tp = await startTestProxy(fake, { otlpEndpoint: receiver.url, otlpContent: true });
    await chat(tp, false);
    await eventually(() => expect(tp.proxy.recorder.stats().recorded).toBe(1), 15_000);
    await tp.close();
    const spans = spansOf(receiver.received);
    expect(spans).toHaveLength(1);
    const a = attrs(spans[0]!);
    const input = JSON.parse(a['gen_ai.input.messages'] as string) as Array<{ role: string; content: string }>;
    expect(input.map((m) => m.role)).toEqual(['system', 'user']);
    expect(input[1]!.content).toBe('my key is [REDACTED]');
    const output = JSON.parse(a['gen_ai.output.messages'] as string) as Array<{ role: string; parts: Array<{ type: string; content?: string }>; finish_reason: string }>;
    expect(output).toEqual([{ role: 'assistant', parts: [{ type: 'text', content: OPENAI_TEXT }], finish_reason: 'stop' }]);
    const wire = receiver.received.map((r) => r.body).join('\n');
    expect(wire).not.toContain(API_KEY);
    expect(wire).not.toContain(SECRET_IN_PROMPT);
  });

  it('a stream that reported no usage (the OpenAI SDK\'s default): its span waits for the archive\'s estimate and carries it, flagged', async () => {
    receiver.received.length = 0;
    const tp = await startTestProxy(fake, { otlpEndpoint: receiver.url });
    const client = new OpenAI({ apiKey: API_KEY, fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    const s = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    for await (const chunk of s) void chunk;
    // The writer loads its tokenizer for this first estimate (~0.5-1 s); the span goes out once it reports.
    const row = await eventually(() => {
      const r = exported(tp)[0];
      if (!r?.usage_estimated) throw new Error('not estimated yet');
      return r;
    }, 15_000);
    // Another such stream, and the proxy stops as soon as it ends: shutdown waits (a moment) for its estimate too.
    const last = await client.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    for await (const chunk of last) void chunk;
    const stopping = Date.now();
    await tp.close();
    expect(Date.now() - stopping).toBeLessThan(3000);
    const spans = spansOf(receiver.received);
    expect(spans).toHaveLength(2);
    for (const span of spans) expect(attrs(span)).toMatchObject({ 'gen_ai.usage.input_tokens': row.usage.input_tokens, 'gen_ai.usage.output_tokens': row.usage.output_tokens, 'llmtap.usage_estimated': true });
    expect(row.usage.input_tokens).toBe(8);
  });
});
