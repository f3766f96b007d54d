/**
 * The web UI's text search decodes and reads up to 2,000 request bodies: on a large
 * archive that is seconds of work, which must not hold the proxy's event loop (every
 * stream in flight) meanwhile.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../src/config.js';
import { makeExchange } from '../../src/exchange.js';
import { openArchive } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

let fake: FakeProvider;
let tp: TestProxy;
let home: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  home = mkdtempSync(join(tmpdir(), 'llmtap-ui-search-'));
  // 2,000 exchanges with 30 KB prompts (stored compressed), none holding the text searched for.
  const archive = openArchive(paths(home).archive);
  const words = Array.from({ length: 5000 }, (_, i) => `w${(i * 7919) % 100_003}`).join(' ');
  const rows = Array.from({ length: 2000 }, (_, i) => {
    const body = Buffer.from(`prompt ${i} ${words}`);
    return exchangeToRow(makeExchange({ timings: { start: Date.now() - 60_000 + i }, outcome: 'completed',
      request: { method: 'POST', path: '/v1/chat/completions', headers: ['content-type', 'text/plain'], body: { bytes: body, size: body.length, truncated: false } } }));
  });
  archive.insertExchanges(rows);
  archive.close();
  tp = await startTestProxy(fake, { home });
}, 60_000);
afterAll(async () => {
  await tp?.close();
  await fake?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('the web UI text search', () => {
  it('runs off the event loop: a proxied request is answered while it reads', async () => {
    const order: string[] = [];
    const search = request(`${tp.url}/ui/api/exchanges?q=nowhere-to-be-found`).then(async (res) => {
      order.push('search');
      return { status: res.statusCode, body: await res.body.json() };
    });
    // Let the search request reach the proxy and start reading first.
    await new Promise((resolve) => setTimeout(resolve, 30));
    const chat = await request('https://api.openai.com/v1/chat/completions', {
      method: 'POST', dispatcher: tp.agent, headers: { 'content-type': 'application/json' }, body: '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}',
    });
    await chat.body.text();
    order.push('chat');
    expect(chat.statusCode).toBe(200);
    expect(await search).toEqual({ status: 200, body: { exchanges: [] } });
    expect(order).toEqual(['chat', 'search']);
  }, 30_000);
});
