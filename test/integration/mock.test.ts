import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy } from '../helpers/start-proxy.js';
import { startCliMock, type CliMock } from '../helpers/cli-mock.js';

const run = promisify(execFile);
const CLI = resolve('dist/cli/main.js');

const weatherTool = { name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } };

/** What the client code saw: every answer, tool call and stream event, as plain data. */
interface Transcript {
  toolTurn: unknown;
  streamEvents: unknown[];
  finalText: string;
  openaiChunks: unknown[];
  providerError: { status: number; message: string; llmtapError: string | null };
  rawSse: string;
}

/**
 * The same client code, run once through the recording proxy and once through the mock:
 * the replay runs with other API keys and another metadata.user_id (neither is in the mock's key).
 */
async function clientCode(agent: ProxyAgent, run: 'record' | 'replay'): Promise<Transcript> {
  const anthropic = new Anthropic({ apiKey: `sk-ant-api03-${run}-0123456789abcdef`, fetchOptions: { dispatcher: agent } as never, maxRetries: 0 });
  // A tool loop: the model asks for the weather (JSON answer), gets it, answers (streamed).
  const messages: Anthropic.MessageParam[] = [{ role: 'user', content: [{ type: 'text', text: 'What is the weather in Paris?', cache_control: { type: 'ephemeral' } }] }];
  const first = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 256, tools: [weatherTool], messages, metadata: { user_id: `session-${run}` } });
  const call = first.content.find((b) => b.type === 'tool_use')!;
  messages.push({ role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '18°C and sunny' }] });
  const stream = anthropic.messages.stream({ model: 'claude-sonnet-4-5', max_tokens: 256, tools: [weatherTool], messages });
  const streamEvents: unknown[] = [];
  for await (const event of stream) streamEvents.push(event);
  const final = await stream.finalMessage();

  const openai = new OpenAI({ apiKey: `sk-proj-${run}-0123456789abcdef`, fetchOptions: { dispatcher: agent } as never, maxRetries: 0 });
  const chunks: unknown[] = [];
  for await (const chunk of await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Say hi' }], stream: true, stream_options: { include_usage: true } })) chunks.push(chunk);
  // A provider error is an answer too: replayed as recorded, not as an llmtap error.
  const providerError = await openai.chat.completions.create({ model: 'does-not-exist', messages: [{ role: 'user', content: 'x' }] }).then(
    () => ({ status: 0, message: 'no error', llmtapError: null }),
    (err: InstanceType<typeof OpenAI.APIError>) => ({ status: err.status ?? 0, message: err.message, llmtapError: err.headers?.get('x-llmtap-error') ?? null }),
  );
  const raw = await request('https://api.openai.com/v1/chat/completions', {
    method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json', authorization: `Bearer sk-proj-raw-${run}-0123456789abcdef` },
    body: JSON.stringify({ stream: true, model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'raw bytes' }] }),
  });
  const rawSse = await raw.body.text();
  return { toolTurn: first, streamEvents, finalText: final.content.filter((b) => b.type === 'text').map((b) => b.text).join(''), openaiChunks: chunks, providerError, rawSse };
}

let home: string;
let recorded: Transcript;
let mock: CliMock;
let mockAgent: ProxyAgent;

async function exportedCount(h: string): Promise<number> {
  return (await run('node', [CLI, '--home', h, 'export'])).stdout.trim().split('\n').filter(Boolean).length;
}

beforeAll(async () => {
  const fake = await startFakeProvider();
  const tp = await startTestProxy(fake);
  home = tp.home;
  try {
    recorded = await clientCode(tp.agent, 'record');
  } finally {
    await tp.close(); // flushes the archive
    await fake.close(); // no provider at all from here on
  }
  // The mock, as a user runs it; --connect-to points at a dead port: a forward would fail loudly.
  mock = await startCliMock(home, ['--since', '1h', '--connect-to', 'api.anthropic.com:443:127.0.0.1:9', '--connect-to', 'api.openai.com:443:127.0.0.1:9']);
  mockAgent = new ProxyAgent({ uri: mock.url, requestTls: { ca: mock.ca } });
}, 60_000);

afterAll(async () => {
  await mockAgent?.close();
  await mock?.stop();
});

describe('llmtap mock: the same client code, answered from the archive with no provider running', () => {
  it('gives identical answers: tool calls, stream events, chunks, provider errors, SSE bytes', async () => {
    const before = await exportedCount(home);
    const replayed = await clientCode(mockAgent, 'replay');
    expect((recorded.toolTurn as { stop_reason: string }).stop_reason).toBe('tool_use');
    expect(recorded.streamEvents.length).toBeGreaterThan(5);
    expect(recorded.providerError).toMatchObject({ status: 404, llmtapError: null });
    expect(replayed).toEqual(recorded);
    // The replayed archive is never written by the mock.
    expect(await exportedCount(home)).toBe(before);
  });

  it('a request never recorded gets the SDK\'s typed error with no_recording and the nearest difference', async () => {
    const anthropic = new Anthropic({ apiKey: 'none', fetchOptions: { dispatcher: mockAgent } as never, maxRetries: 0 });
    const err = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 999, tools: [weatherTool], messages: [{ role: 'user', content: [{ type: 'text', text: 'What is the weather in Paris?' }] }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.NotFoundError);
    const e = err as InstanceType<typeof Anthropic.NotFoundError>;
    expect(e.headers?.get('x-llmtap-error')).toBe('no_recording');
    expect(e.message).toMatch(/no recorded answer .*key [0-9a-f]{16}; nearest recording \S+ differs at max_tokens: recorded 256, got 999\) \(no_recording\)/);

    const openai = new OpenAI({ apiKey: 'none', fetchOptions: { dispatcher: mockAgent } as never, maxRetries: 0 });
    const oerr = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'never asked' }], stream: true }).catch((x: unknown) => x);
    expect(oerr).toBeInstanceOf(OpenAI.NotFoundError);
    expect((oerr as InstanceType<typeof OpenAI.NotFoundError>).code).toBe('no_recording');
  });

  it('records its own exchanges in a separate home and lists the misses when it stops', async () => {
    await mock.stop();
    expect(mock.stderr()).toMatch(/llmtap mock: 5 answered from recordings, 2 with no recording, 0 recordings never asked for/);
    expect(mock.stderr()).toMatch(/no_recording POST api\.anthropic\.com\/v1\/messages key [0-9a-f]{16}, nearest \S+: max_tokens: recorded 256, got 999/);
    const lines = (await run('node', [CLI, '--home', join(home, 'mock'), 'export'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: number; error_code?: string | null });
    expect(lines).toHaveLength(7);
    expect(lines.filter((l) => l.status === 404).length).toBe(3);
  });
});
