import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { openTls, startFakeWs, type FakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * A Codex session's cost is recorded once for the whole WebSocket; the web UI shares it
 * among the session's requests by each one's own price. With `--prices` overrides those
 * shares must follow the prices the session was recorded with, not the built-in ones:
 * here the override makes the cheap model 1,000× dearer than the built-in data says.
 */
let fake: FakeWs;
let tp: TestProxy;
let prices: string;
beforeAll(async () => {
  fake = await startFakeWs({ perMessageDeflate: false });
  prices = join(mkdtempSync(join(tmpdir(), 'llmtap-prices-')), 'prices.yaml');
  writeFileSync(prices, 'prices:\n  - model: gpt-4o-mini*\n    input_mtok: 1000\n    output_mtok: 1000\n');
  tp = await startTestProxy(undefined, { connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile], prices });
}, 60_000);
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

interface Turn { model: string; costUsd: number | null }

describe('a Codex session\'s cost per request in the web UI and `show`', () => {
  it('is shared by the prices the proxy recorded with (--prices overrides included)', async () => {
    const tls = await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem });
    const ws = new WebSocket('wss://api.openai.com/v1/responses', { createConnection: () => tls, perMessageDeflate: false });
    const got: string[] = [];
    ws.on('message', (d) => got.push(d.toString()));
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    for (const model of ['gpt-5-codex', 'gpt-4o-mini']) {
      const from = got.length;
      ws.send(JSON.stringify({ type: 'response.create', model, input: [{ role: 'user', content: `ask ${model}` }] }));
      await eventually(() => expect(got.slice(from).some((m) => m.includes('"response.completed"'))).toBe(true));
    }
    ws.close(1000);
    const row = await eventually(() => {
      const r = exported(tp).find((e) => e.status === 101);
      if (!r?.session_id || r.cost_usd === null || r.cost_usd === undefined) throw new Error('session not recorded yet');
      return r;
    });

    const answer = await fetch(`${tp.url}/ui/api/exchanges/${encodeURIComponent(row.id as string)}`);
    expect(answer.status).toBe(200);
    const turns = ((await answer.json()) as { turns: Turn[] }).turns;
    expect(turns.map((t) => t.model)).toEqual(['gpt-5-codex', 'gpt-4o-mini']);
    const [codex, mini] = turns.map((t) => t.costUsd!);
    // Both used the same tokens (12 in, 9 out): at the override's $1,000 per million tokens the
    // mini request is 21,000 µ$, against gpt-5-codex's ~105 µ$ at its built-in price.
    expect(mini).toBeGreaterThan(100 * codex!);
    expect(codex! + mini!).toBeCloseTo(row.cost_usd as number, 12);

    // `show` works the shares out in its own process: with the proxy's --prices file, the same figures.
    const show = async (...extra: string[]): Promise<Turn[]> => (JSON.parse((await promisify(execFile)('node', [resolve('dist/cli/main.js'), '--home', tp.home, 'show', row.session_id as string, '--json', ...extra])).stdout) as { threads: { turns: Turn[] }[] }).threads[0]!.turns;
    expect((await show('--prices', prices)).map((t) => t.costUsd)).toEqual(turns.map((t) => t.costUsd));
    const builtIn = (await show()).map((t) => t.costUsd!);
    expect(builtIn[0]).toBeGreaterThan(builtIn[1]!);
    const bad = join(tmpdir(), 'llmtap-bad-prices.yaml');
    writeFileSync(bad, 'prices:\n  - model: x\n    input_mtok: cheap\n    output_mtok: 1\n');
    const failed = await promisify(execFile)('node', [resolve('dist/cli/main.js'), '--home', tp.home, 'show', row.id as string, '--prices', bad]).then(() => undefined, (err: { code: number; stderr: string }) => err);
    expect(failed?.code).toBe(1);
    expect(failed?.stderr).toMatch(/^llmtap: --prices .*llmtap-bad-prices\.yaml:3: .*input_mtok/);
    expect(failed?.stderr.trim().split('\n')).toHaveLength(1);
  });
});
