import { readFileSync } from 'node:fs';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRaw, zstd } from '../faults/secrets-helpers.js';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * Every parser reads answers after content decoding: the same answer sent as is,
 * gzip-encoded and zstd-encoded (Claude Code advertises zstd) must give the same
 * model, text, tool calls and usage. The fake provider mirrors the request body back
 * as the answer (X-Fake-Mirror), so the encoded bytes are exactly the ones built here.
 */
const fixture = (name: string) => readFileSync(new URL(`../fixtures/sse/${name}`, import.meta.url));

const APIS = [
  { name: 'OpenAI chat, JSON', host: 'api.openai.com', path: '/v1/chat/completions', type: 'application/json', body: fixture('openai-chat.json') },
  { name: 'OpenAI chat, SSE', host: 'api.openai.com', path: '/v1/chat/completions', type: 'text/event-stream', body: fixture('openai-chat-stream.txt') },
  { name: 'OpenAI Responses, JSON', host: 'api.openai.com', path: '/v1/responses', type: 'application/json', body: fixture('openai-responses.json') },
  { name: 'OpenAI Responses, SSE', host: 'api.openai.com', path: '/v1/responses', type: 'text/event-stream', body: fixture('openai-responses-stream.txt') },
  { name: 'Anthropic Messages, JSON', host: 'api.anthropic.com', path: '/v1/messages', type: 'application/json', body: fixture('anthropic-messages.json') },
  { name: 'Anthropic Messages, SSE', host: 'api.anthropic.com', path: '/v1/messages', type: 'text/event-stream', body: fixture('anthropic-messages-stream.txt') },
];

const CODINGS = [
  { coding: undefined, encode: (b: Buffer) => b },
  { coding: 'gzip', encode: (b: Buffer) => gzipSync(b) },
  { coding: 'zstd', encode: (b: Buffer) => zstd(b) },
];

describe('answers in every content coding are parsed alike', () => {
  let fake: FakeProvider;
  let tp: TestProxy;

  beforeAll(async () => {
    fake = await startFakeProvider();
    tp = await startTestProxy(fake);
  });
  afterAll(async () => {
    await tp.close();
    await fake.close();
  });

  it.each(APIS)('$name: identity, gzip and zstd answers give the same model, text, tool calls and usage', async (api) => {
    const seen = [];
    for (const { coding, encode } of CODINGS) {
      const id = `${api.name}/${coding ?? 'identity'}`;
      const headers: Array<[string, string]> = [['Content-Type', api.type], ['X-Fake-Mirror', '1'], ['X-Test-Id', id]];
      if (coding) headers.push(['Content-Encoding', coding]);
      const res = await sendRaw(tp, api.host, `POST ${api.path} HTTP/1.1`, headers, encode(api.body));
      expect(res.status).toBe('HTTP/1.1 200 OK');
      const ex = await eventually(() => {
        const found = exported(tp).find((e) => JSON.stringify(e.request.headers).includes(JSON.stringify(id)));
        if (!found) throw new Error(`${id} not recorded yet`);
        return found;
      });
      expect(ex.response?.body_stored).toBe(coding ? 'decoded' : 'as_sent');
      seen.push({ model: ex.model, text: ex.response?.text, toolCalls: ex.response?.tool_calls, usage: ex.usage, stop: ex.response?.stop_reason });
    }
    // Something was really extracted, and every coding gave exactly that.
    expect(seen[0]!.model).toBeTruthy();
    expect(`${seen[0]!.text ?? ''}${JSON.stringify(seen[0]!.toolCalls ?? [])}`.length).toBeGreaterThan(2);
    expect(seen[0]!.usage?.output_tokens).toBeGreaterThan(0);
    expect(seen[1]).toEqual(seen[0]);
    expect(seen[2]).toEqual(seen[0]);
  });
});
