/**
 * Idle upstream connections: the first few of an origin stay open long (agents pause
 * between calls), the ones a burst added close soon after it, so memory comes back.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { UpstreamPools } from '../../src/proxy/upstream.js';
import { eventually } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';

let fake: FakeProvider;
beforeAll(async () => {
  fake = await startFakeProvider();
});
afterAll(async () => {
  await fake?.close();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('idle upstream connections', () => {
  it('after a burst of 8 concurrent streams, the 5 connections beyond the 3 warm ones close; the warm ones serve the next requests', async () => {
    const up = new UpstreamPools({
      connectTo: [parseConnectTo(`::127.0.0.1:${fake.port}`)], extraCaFiles: [fake.caFile],
      connectTimeoutMs: 5000, headersTimeoutMs: 5000, idleTimeoutMs: 5000,
      idle: { warm: 3, warmMs: 60_000, burstMs: 300 },
      targetPolicy: () => ({ gateway: false, allowHosts: [], allowedPorts: undefined, ownPort: 0 }),
    });
    const pool = up.get(true, 'burst.bench.test', 443);
    const stream = JSON.stringify({ model: 'gpt-4o-mini', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    const open0 = fake.connections.open;
    const accepted0 = fake.connections.accepted;
    fake.eventGapMs = 20; // each stream holds its connection for a while, so all 8 run at once
    try {
      await Promise.all(Array.from({ length: 8 }, async () => {
        const res = await pool.request({ method: 'POST', path: '/v1/chat/completions', headers: { 'content-type': 'application/json' }, body: stream });
        expect(res.statusCode).toBe(200);
        await res.body.text();
      }));
    } finally {
      fake.eventGapMs = 0;
    }
    expect(fake.connections.accepted - accepted0).toBe(8);
    await eventually(() => expect(fake.connections.open - open0).toBe(3), 5000);
    await sleep(600); // twice the burst keep-alive: the warm ones are still there
    expect(fake.connections.open - open0).toBe(3);

    for (let i = 0; i < 3; i++) {
      const res = await pool.request({ method: 'POST', path: '/v1/chat/completions', body: stream });
      await res.body.text();
    }
    expect(fake.connections.accepted - accepted0).toBe(8); // no new dial
    await up.close();
  });
});
