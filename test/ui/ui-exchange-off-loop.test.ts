/**
 * The web UI's exchange view decodes the exchange's stored bodies and, for a Codex
 * WebSocket session, parses its whole message log (thousands of messages for a long
 * session; 0.2-0.5 s for 5,000, more for megabytes of prompt). That must not hold the
 * proxy's event loop (every stream in flight) meanwhile: it runs in the report thread,
 * the loop never reads the exchange itself, and the answer is byte for byte as before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exchangeToJson } from '../../src/archive/export.js';
import { rowModels } from '../../src/archive/model-parts.js';
import { SqliteArchiveReader } from '../../src/archive/sqlite-reader.js';
import { paths } from '../../src/config.js';
import { makeExchange } from '../../src/exchange.js';
import { openArchive, type WsMessageRow } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { threadTurns } from '../../src/sessions/turns.js';
import { turnJson } from '../../src/sessions/turns-json.js';
import { curlCommand } from '../../src/ui/server/curl.js';
import { pricesFor } from '../../src/ui/server/prices-for.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

let fake: FakeProvider;
let tp: TestProxy;
let home: string;
let sessionId: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  home = mkdtempSync(join(tmpdir(), 'llmtap-ui-exchange-'));
  // A Codex session of 100 requests over one WebSocket: 2,000 messages (each request answered by 19 events).
  const archive = openArchive(paths(home).archive);
  const start = Date.now() - 3_600_000;
  const empty = { bytes: Buffer.alloc(0), size: 0, truncated: false };
  const row = { ...exchangeToRow(makeExchange({ timings: { start, end: start + 2_600_000 }, outcome: 'completed', provider: 'openai', api: 'responses',
    target: { host: 'api.openai.com', port: 443, tls: true },
    request: { method: 'GET', path: '/v1/responses', headers: ['upgrade', 'websocket'], body: empty },
    response: { status: 101, headers: ['upgrade', 'websocket'], body: empty } })), model: 'gpt-5-codex', cost_usd: 1.5, cost_source: 'api',
    model_usage: JSON.stringify([['gpt-5-mini', 34, 0.2], ['gpt-5-codex', 66, 1.3]].map(([model, responses, cost]) => ({ model, responses, input_tokens: 20_000 * (responses as number), cached_input_tokens: 15_000 * (responses as number), cache_creation_input_tokens: null, output_tokens: 300 * (responses as number), reasoning_tokens: 100 * (responses as number), cost_usd: cost }))) };
  sessionId = row.id;
  const messages: WsMessageRow[] = [];
  const send = (direction: 'client' | 'server', at: number, event: unknown): void => {
    const text = JSON.stringify(event);
    messages.push({ exchange_id: row.id, seq: messages.length, direction, at, opcode: 1, size: text.length, compressed: 0, truncated: 0, text, data: null, error: null });
  };
  for (let r = 0; r < 100; r++) {
    const at = start + r * 10_000;
    const model = r % 3 ? 'gpt-5-codex' : 'gpt-5-mini';
    send('client', at, { type: 'response.create', model, instructions: 'You are Codex. '.repeat(100), input: [{ type: 'message', role: 'user', content: [{ type: 'input_text', text: `request ${r}: ${'some context '.repeat(100)}` }] }] });
    send('server', at + 100, { type: 'response.created', sequence_number: 0, response: { id: `resp_${r}`, object: 'response', status: 'in_progress', model } });
    for (let d = 1; d <= 17; d++) send('server', at + 100 + d, { type: 'response.output_text.delta', sequence_number: d, item_id: `msg_${r}`, output_index: 0, content_index: 0, delta: `piece ${d} ` });
    send('server', at + 200, { type: 'response.completed', sequence_number: 18, response: { id: `resp_${r}`, object: 'response', status: 'completed', model, usage: { input_tokens: 20_000, output_tokens: 300, total_tokens: 20_300, input_tokens_details: { cached_tokens: 15_000 }, output_tokens_details: { reasoning_tokens: 100 } } } });
  }
  archive.insertExchanges([row]);
  archive.insertWsMessages(messages);
  archive.close();
  tp = await startTestProxy(fake, { home });
}, 60_000);
afterAll(async () => {
  await tp?.close();
  await fake?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('the web UI exchange view', () => {
  it('reads off the event loop: a proxied request is answered while it decodes, the loop never reads the exchange, and the answer is what it was', async () => {
    // The UI server's own reader, watched: the exchange and its messages must be read in the report thread, not here.
    const ui = (tp.proxy.server as unknown as { ui: { reader: { current(): SqliteArchiveReader | undefined; close(): void } } }).ui;
    const followed = ui.reader;
    const onLoop: string[] = [];
    ui.reader = { close: () => followed.close(), current: () => {
      const reader = followed.current();
      return reader && new Proxy(reader, { get: (target, key) => {
        const value = Reflect.get(target, key) as unknown;
        if (key === 'exchange' || key === 'wsMessages') onLoop.push(key);
        return typeof value === 'function' ? value.bind(target) : value;
      } });
    } };
    try {
      const order: string[] = [];
      const page = request(`${tp.url}/ui/api/exchanges/${sessionId}`).then(async (res) => {
        order.push('exchange');
        return { status: res.statusCode, text: await res.body.text() };
      });
      // Let the page's request reach the proxy and start reading first.
      await new Promise((resolve) => setTimeout(resolve, 30));
      const chat = await request('https://api.openai.com/v1/chat/completions', {
        method: 'POST', dispatcher: tp.agent, headers: { 'content-type': 'application/json' }, body: '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}',
      });
      await chat.body.text();
      order.push('chat');
      expect(chat.statusCode).toBe(200);
      const { status, text } = await page;
      expect(status).toBe(200);
      expect(onLoop).toEqual([]);
      expect(order).toEqual(['chat', 'exchange']);

      // The same text as the view read on the event loop gave: `export`'s JSON, the models, the turns (costs as `show --json` gives them) and the curl command.
      const reader = new SqliteArchiveReader(paths(home).archive, { readonly: true });
      try {
        const detail = reader.exchange(sessionId)!;
        const exported = exchangeToJson(detail.row, detail.wsMessages);
        const turns = threadTurns([detail.row], { messagesOf: () => detail.wsMessages, price: await pricesFor([detail.row], undefined) }).map(turnJson);
        expect(turns).toHaveLength(100);
        expect(text).toBe(JSON.stringify({ ...exported, models: rowModels(detail.row), turn: turns[0], turns, curl: curlCommand(exported) }));
      } finally {
        reader.close();
      }
      // An exchange nobody recorded is still a 404 with its code.
      const missing = await request(`${tp.url}/ui/api/exchanges/nope`);
      expect([missing.statusCode, ((await missing.body.json()) as { error: { code: string } }).error.code]).toEqual([404, 'not_found']);
    } finally {
      ui.reader = followed;
    }
  }, 30_000);
});
