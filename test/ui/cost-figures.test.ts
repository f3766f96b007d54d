/**
 * The web UI's JSON gives dollar figures as the CLI's JSON does (usdFigure: 12 significant
 * digits): 0.000081, not the sum of a price's parts, 0.00008099999999999999.
 */
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

let fake: FakeProvider;
let tp: TestProxy;
beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake);
}, 60_000);
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

/** gpt-4o-mini at 500 prompt and 10 answer tokens: $0.000075 + $0.000006, which JavaScript sums to 0.00008099999999999999. */
const COST = 0.000081;

describe('cost figures in the web UI\'s JSON', () => {
  it('are the 12 significant digits the CLI prints, in the list, exchange and session pages', async () => {
    const body = {
      model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'a priced question' }],
      id: 'chatcmpl-mirror', object: 'chat.completion', created: 1_700_000_000,
      choices: [{ index: 0, message: { role: 'assistant', content: 'an answer' }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 500, completion_tokens: 10, total_tokens: 510 },
    };
    const res = await request('https://api.openai.com/v1/chat/completions', {
      method: 'POST', dispatcher: tp.agent, body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', 'x-fake-mirror': '1', authorization: 'Bearer sk-proj-figures-0123456789abcdef' },
    });
    expect(res.statusCode).toBe(200);
    await res.body.text();
    tp.proxy.recorder.flush();
    const get = async <T>(path: string): Promise<T> => (await (await fetch(`${tp.url}${path}`)).json()) as T;

    const [item] = (await get<{ exchanges: { id: string; sessionId: string; costUsd: number }[] }>('/ui/api/exchanges')).exchanges;
    expect(item!.costUsd).toBe(COST);
    const exchange = await get<{ cost_usd: number; turn: { costUsd: number } }>(`/ui/api/exchanges/${encodeURIComponent(item!.id)}`);
    expect([exchange.cost_usd, exchange.turn.costUsd]).toEqual([COST, COST]);
    const session = await get<{ session: { cost_usd: number }; threads: { thread: { costUsd: number }; turns: { costUsd: number }[] }[] }>(`/ui/api/sessions/${encodeURIComponent(item!.sessionId)}`);
    expect([session.session.cost_usd, session.threads[0]!.thread.costUsd, session.threads[0]!.turns[0]!.costUsd]).toEqual([COST, COST, COST]);
    const usage = await get<{ rows: { cost_usd: number }[] }>('/ui/api/usage?by=model');
    expect(usage.rows[0]!.cost_usd).toBe(COST);
    const series = await get<{ points: { costUsd: number }[] }>('/ui/api/series?by=model');
    expect(series.points[0]!.costUsd).toBe(COST);
  });
});
