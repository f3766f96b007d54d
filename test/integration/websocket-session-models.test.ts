import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { openTls, startFakeWs, type FakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * A Codex session (Responses over WebSocket) is one exchange, but Codex switches models
 * inside it (/model): `sessions` must name every model that answered, not only the last.
 * Real `ws` client and server; read back with the built CLI.
 */
const run = promisify(execFile);
let fake: FakeWs;
let tp: TestProxy;
beforeAll(async () => {
  fake = await startFakeWs();
  tp = await startTestProxy(undefined, { connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile] });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

describe('a Codex WebSocket session that switches models', () => {
  it('is listed by sessions with every model that answered, and found by --model for any of them', async () => {
    const tls = await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem });
    const ws = new WebSocket('wss://api.openai.com/v1/responses', { createConnection: () => tls });
    const got: string[] = [];
    ws.on('message', (d) => got.push(d.toString()));
    await new Promise<void>((ok, fail) => ws.once('open', ok).once('error', fail));
    for (const model of ['gpt-5-codex', 'gpt-5-mini', 'gpt-5-codex']) {
      const from = got.length;
      ws.send(JSON.stringify({ type: 'response.create', model, input: `asking ${model}` }));
      await eventually(() => {
        if (!got.slice(from).some((m) => m.includes('"response.completed"'))) throw new Error('no answer yet');
      });
    }
    await new Promise((done) => ws.once('close', done).close(1000));
    await eventually(() => {
      if (!exported(tp).some((e) => e.status === 101)) throw new Error('not recorded yet');
    });

    const cli = async (...args: string[]) => JSON.parse((await run('node', [resolve('dist/cli/main.js'), ...args, '--json', '--home', tp.home])).stdout) as Array<{ models: string[]; turns: number }>;
    const [session] = await cli('sessions');
    expect(session).toMatchObject({ turns: 3, models: ['gpt-5-codex', 'gpt-5-mini'] });
    expect(await cli('sessions', '--model', 'gpt-5-mini')).toHaveLength(1);
  });
});
