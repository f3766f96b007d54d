import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { parseConnectTo } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { prettyLine } from '../../src/log-pretty.js';
import { eventually, exported } from '../helpers/archive.js';
import { FAIL_MID_STREAM } from '../helpers/fake-faults.js';
import { openTls, startFakeWs, type FakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * A Codex session whose last response the provider failed (`response.failed`) counts as an
 * error in the archive; its proxy log line says so too, as an HTTP exchange's does.
 */
describe('the proxy log line of a WebSocket session', () => {
  let fake: FakeWs;
  let tp: TestProxy;
  const logs: Record<string, unknown>[] = [];

  beforeAll(async () => {
    fake = await startFakeWs();
    const destination = new Writable({ write(chunk: Buffer, _enc, cb) { logs.push(JSON.parse(chunk.toString()) as Record<string, unknown>); cb(); } });
    tp = await startTestProxy(undefined, { connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile] }, { logger: createLogger({ level: 'info', destination }) });
  });
  afterAll(async () => {
    await tp?.close();
    await fake?.close();
  });

  const session = async (input: string): Promise<void> => {
    const tls = await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem });
    const ws = new WebSocket('wss://api.openai.com/v1/responses', { createConnection: () => tls });
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
    const ended = new Promise<void>((resolve) => ws.on('message', (d) => /"response\.(completed|failed)"/.test(d.toString()) && resolve()));
    ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-5-codex', input: [{ role: 'user', content: [{ type: 'input_text', text: input }] }] }));
    await ended;
    ws.close();
    await new Promise((resolve) => ws.once('close', resolve));
  };

  it('is at warn with the provider\'s error when its last response failed; at info when it completed', async () => {
    await session('say hello');
    await session(FAIL_MID_STREAM);
    const rows = await eventually(() => {
      const r = exported(tp);
      if (r.length < 2) throw new Error('not recorded yet');
      return r;
    });
    expect(rows.map((r) => r.response?.stop_reason).sort()).toEqual(['completed', 'failed']);
    const lines = await eventually(() => {
      const l = logs.filter((x) => x.msg === 'websocket');
      if (l.length < 2) throw new Error('not logged yet');
      return l;
    });
    expect(lines.map((l) => [l.level, l.status, l.error])).toEqual([[30, 101, undefined], [40, 101, 'failed']]);
    expect(prettyLine(lines[1]!, false)).toMatch(/^\S+ WARN  websocket .*status=101 .*error=failed/);
  });
});
