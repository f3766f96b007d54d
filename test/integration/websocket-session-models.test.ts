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
  it('is listed by sessions with every model that answered, found by --model for any of them (sessions, export, stats), split by model in stats, all its models in the CSV', async () => {
    const tls = await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem });
    const ws = new WebSocket('wss://api.openai.com/v1/responses', { createConnection: () => tls });
    const got: string[] = [];
    ws.on('message', (d) => got.push(d.toString()));
    await new Promise<void>((ok, fail) => ws.once('open', ok).once('error', fail));
    for (const model of ['gpt-5-codex', 'gpt-5-mini', 'gpt-5-codex']) {
      const from = got.length;
      ws.send(JSON.stringify({ type: 'response.create', model, input: `asking ${model} with sk-proj-SECRETSECRETSECRETSECRET99` }));
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
    // search finds it (by its prompts) under every model that answered, as tail and the CSV name it.
    expect((await cli('search', 'asking gpt-5-mini')).map((r) => (r as unknown as { model: string }).model)).toEqual(['gpt-5-codex+gpt-5-mini']);

    // stats --by model splits the session: each model its own tokens and cost (its
    // responses' own prices), each counting the session once; the total counts it once.
    type Stat = { model: string; requests: number; tokens: { input: number; output: number }; cost_usd: number };
    const stats = (await run('node', [resolve('dist/cli/main.js'), 'stats', '--by', 'model', '--json', '--home', tp.home])).stdout;
    const byModel = Object.fromEntries((JSON.parse(stats) as Stat[]).map((r) => [r.model, r]));
    expect(Object.keys(byModel).sort()).toEqual(['gpt-5-codex', 'gpt-5-mini']);
    expect(byModel['gpt-5-codex']).toMatchObject({ requests: 1, tokens: { input: 24, output: 18 } });
    expect(byModel['gpt-5-mini']).toMatchObject({ requests: 1, tokens: { input: 12, output: 9 } });
    const [row] = exported(tp).filter((e) => e.status === 101);
    // gpt-5-codex costs 5× gpt-5-mini per token, and answered twice.
    expect(byModel['gpt-5-codex']!.cost_usd).toBeCloseTo(10 * byModel['gpt-5-mini']!.cost_usd, 12);
    expect(byModel['gpt-5-codex']!.cost_usd + byModel['gpt-5-mini']!.cost_usd).toBeCloseTo(row!.cost_usd!, 12);
    const mini = JSON.parse((await run('node', [resolve('dist/cli/main.js'), 'stats', '--by', 'model', '--model', 'gpt-5-mini', '--json', '--home', tp.home])).stdout) as Stat[];
    expect(mini).toEqual([byModel['gpt-5-mini']]);

    // --model finds the session by any model that answered in it, not only the last (gpt-5-codex):
    // export writes it, stats counts it (the whole session where it does not split by model).
    const cliOut = async (...args: string[]) => (await run('node', [resolve('dist/cli/main.js'), ...args, '--home', tp.home])).stdout;
    const [jsonl, byTool, codex] = await Promise.all([
      cliOut('export', '--format', 'jsonl', '--model', 'gpt-5-mini'),
      cliOut('stats', '--by', 'tool', '--model', 'gpt-5-mini', '--json'),
      cliOut('stats', '--by', 'model', '--model', 'gpt-5-codex', '--json'),
    ]);
    expect(jsonl.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual([row!.id]);
    expect(JSON.parse(byTool)).toEqual([expect.objectContaining({ requests: 1, tokens: expect.objectContaining({ input: 36, output: 27 }) })]);
    expect((JSON.parse(byTool) as Stat[])[0]!.cost_usd).toBeCloseTo(row!.cost_usd!, 12);
    expect(JSON.parse(codex)).toEqual([byModel['gpt-5-codex']]);

    // One row per exchange: the CSV's model column names both models.
    const csv = (await run('node', [resolve('dist/cli/main.js'), 'export', '--format', 'csv', '--home', tp.home])).stdout;
    expect(csv.split('\n')[1]).toContain(',gpt-5-codex+gpt-5-mini,');

    // show --raw: after the upgrade's request and 101, each message of the session on a line of its
    // own — direction, time, kind, then the payload as stored (redacted), as export holds it.
    const raw = (await run('node', [resolve('dist/cli/main.js'), 'show', row!.id, '--raw', '--home', tp.home])).stdout;
    const expected = row!.websocket!.messages.map((m) => `${m.direction} ${m.at} ${({ 1: 'text', 2: 'binary', 8: 'close', 9: 'ping', 10: 'pong' } as Record<number, string>)[m.opcode]}${m.text !== undefined ? ` ${m.text}` : m.data_base64 ? ` base64:${m.data_base64}` : ''}`);
    expect(expected.filter((l) => l.startsWith('client ')).length).toBe(4); // three requests and the close
    expect(raw).toContain('HTTP/1.1 101\r\n');
    expect(raw.slice(raw.indexOf('HTTP/1.1 101')).split('\r\n\r\n')[1]).toBe(`\r\n${expected.join('\n')}\n`);
    expect(raw).toContain('asking gpt-5-mini with [REDACTED]');
    expect(raw).not.toContain('SECRETSECRET');
  });

  it('show --raw keeps a message holding line breaks on one line (a client that pretty-prints its JSON)', async () => {
    const tls = await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem });
    const ws = new WebSocket('wss://api.openai.com/v1/responses', { createConnection: () => tls });
    const got: string[] = [];
    ws.on('message', (d) => got.push(d.toString()));
    await new Promise<void>((ok, fail) => ws.once('open', ok).once('error', fail));
    const pretty = JSON.stringify({ type: 'response.create', model: 'gpt-5-mini', input: 'pretty-printed' }, null, 2);
    ws.send(pretty);
    await eventually(() => {
      if (!got.some((m) => m.includes('"response.completed"'))) throw new Error('no answer yet');
    });
    await new Promise((done) => ws.once('close', done).close(1000));
    const row = await eventually(() => {
      const found = exported(tp).find((e) => e.status === 101 && e.websocket?.messages.some((m) => m.text === pretty));
      if (!found) throw new Error('not recorded yet');
      return found;
    });
    const raw = (await run('node', [resolve('dist/cli/main.js'), 'show', row.id, '--raw', '--home', tp.home])).stdout;
    const messages = raw.slice(raw.indexOf('HTTP/1.1 101')).split('\r\n\r\n')[1]!.replace(/^\r\n/, '').trimEnd().split('\n');
    expect(messages).toHaveLength(row.websocket!.messages.length);
    const request = messages.find((l) => l.startsWith('client ') && l.includes(' text '))!;
    expect(request).toMatch(/^client \S+ text json:"/);
    expect(JSON.parse(request.slice(request.indexOf('json:') + 5))).toBe(pretty);
  });
});
