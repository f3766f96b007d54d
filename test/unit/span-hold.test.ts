import { describe, expect, it } from 'vitest';
import { makeExchange, type Exchange, type Usage } from '../../src/exchange.js';
import { SpanHold } from '../../src/otel/span-hold.js';

const chat = (usage?: Usage): Exchange => makeExchange({
  provider: 'openai', api: 'chat.completions',
  request: { method: 'POST', path: '/v1/chat/completions', headers: [], body: { bytes: Buffer.from('{"messages":[]}'), size: 15, truncated: false }, model: 'gpt-4o' },
  response: { status: 200, headers: [], body: { bytes: Buffer.alloc(0), size: 0, truncated: false }, reassembled: { text: 'hi', toolCalls: [], events: 2, ...(usage ? { usage } : {}) } },
  ...(usage ? { usage } : {}),
});

describe('spans waiting for the archive\'s estimate', () => {
  it('sends an answer with usage at once; holds one without until the estimate, which it then carries', () => {
    const sent: Exchange[] = [];
    const hold = new SpanHold((ex) => sent.push(ex));
    hold.offer(chat({ inputTokens: 3, outputTokens: 4 }));
    expect(sent).toHaveLength(1);
    const waiting = chat();
    hold.offer(waiting);
    expect([sent.length, hold.size]).toEqual([1, 1]);
    hold.settle([{ id: waiting.id, inputTokens: 8, outputTokens: 16, usd: 0.0002, part: 'all' }], []);
    expect(sent[1]).toMatchObject({ id: waiting.id, usage: { inputTokens: 8, outputTokens: 16 }, usageEstimated: 'all' });
    expect(waiting.usage).toBeUndefined(); // the recorded exchange itself is left as it was
    expect(hold.size).toBe(0);
  });

  it('lets a span go as it is when the writer says no estimate comes, or after a bounded wait, or at shutdown', async () => {
    const sent: string[] = [];
    const hold = new SpanHold((ex) => sent.push(`${ex.id}${ex.usageEstimated ? '~' : ''}`), 50);
    const [a, b, c] = [chat(), chat(), chat()];
    for (const ex of [a, b, c]) hold.offer(ex);
    hold.settle([], [a.id]);
    expect(sent).toEqual([a.id]);
    await new Promise((r) => setTimeout(r, 120));
    expect(sent).toEqual([a.id, b.id, c.id]);
    const d = chat();
    hold.offer(d);
    hold.flush();
    expect(sent).toEqual([a.id, b.id, c.id, d.id]);
    expect(hold.size).toBe(0);
  });
});

describe('spans held at shutdown', () => {
  it('wait for the estimates the archive is still making (the writer reports them while shutdown waits), then go', async () => {
    const sent: string[] = [];
    const hold = new SpanHold((ex) => sent.push(`${ex.id}${ex.usageEstimated ? '~' : ''}`));
    const [a, b] = [chat(), chat()];
    for (const ex of [a, b]) hold.offer(ex);
    // The writer reports a's estimate and, a moment later, that b gets none.
    setTimeout(() => hold.settle([{ id: a.id, inputTokens: 8, outputTokens: 16, usd: null, part: 'all' }], []), 30);
    setTimeout(() => hold.settle([], [b.id]), 60);
    const started = Date.now();
    await hold.drain(() => true, 1000);
    expect(sent).toEqual([`${a.id}~`, b.id]);
    expect(Date.now() - started).toBeLessThan(500);
  });

  it('go as they are at once when the archive has nothing left to write (no estimate can come), and after the bound otherwise', async () => {
    const sent: string[] = [];
    const hold = new SpanHold((ex) => sent.push(ex.id));
    const a = chat();
    hold.offer(a);
    let started = Date.now();
    await hold.drain(() => false, 1000);
    expect(sent).toEqual([a.id]);
    expect(Date.now() - started).toBeLessThan(100);
    const b = chat();
    hold.offer(b);
    started = Date.now();
    await hold.drain(() => true, 80);
    expect(sent).toEqual([a.id, b.id]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(70);
    expect(hold.size).toBe(0);
  });
});
