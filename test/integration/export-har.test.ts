import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { openTls, startFakeWs, type FakeWs } from '../helpers/fake-websocket.js';
import { OPENAI_TEXT, startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { assertValidHar } from '../helpers/har-validator.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { converse } from '../helpers/ws-conversation.js';

/**
 * Exchanges recorded through the proxy by real clients (curl over CONNECT and over
 * plain HTTP, the ws client), then `llmtap export --format har` run as a process
 * on the archive: one HAR 1.2 document, valid against the published schema.
 */
const run = promisify(execFile);
const CLI = resolve('dist/cli/main.js');
let fake: FakeProvider;
let plainFake: FakeProvider;
let wsFake: FakeWs;
let tp: TestProxy;
let caFile: string;

type Entry = Record<string, any>;

beforeAll(async () => {
  fake = await startFakeProvider();
  plainFake = await startFakeProvider({ tls: false, ca: fake.ca });
  wsFake = await startFakeWs({ ca: fake.ca });
  tp = await startTestProxy(fake, {
    connectTo: [parseConnectTo(`api.anthropic.com:443:127.0.0.1:${fake.port}`), parseConnectTo(`llm.bench.test:8443:127.0.0.1:${fake.port}`), parseConnectTo(`api.openai.com:443:127.0.0.1:${wsFake.port}`)],
    intercept: [`127.0.0.1:${plainFake.port}`, 'llm.bench.test:8443'],
  });
  caFile = join(tp.home, 'client-ca.pem');
  writeFileSync(caFile, tp.caPem);
});
afterAll(async () => {
  await tp?.close();
  await wsFake?.close();
  await plainFake?.close();
  await fake?.close();
});

describe('llmtap export --format har', () => {
  it('exports SSE over TLS, JSON over plain HTTP and a WebSocket session, recorded through the proxy, as valid HAR 1.2', async () => {
    const curl = ['-sS', '--fail-with-body', '--proxy', tp.url, '-A', 'har-e2e', '-H', 'content-type: application/json'];
    const sse = await run('curl', [...curl, '-N', '--cacert', caFile, 'https://api.anthropic.com/v1/messages?beta=true', '-d', '{"model":"claude-sonnet-4-5","max_tokens":50,"stream":true,"messages":[]}']);
    expect(sse.stdout).toContain('event: message_stop');
    const plain = await run('curl', [...curl, `http://127.0.0.1:${plainFake.port}/v1/chat/completions`, '-d', '{"model":"llama3.2","messages":[]}']);
    expect(JSON.parse(plain.stdout).choices[0].message.content).toBe(OPENAI_TEXT);
    const conv = await converse(await openTls({ proxyPort: tp.proxy.address.port, fakePort: wsFake.port, ca: tp.caPem }));
    expect(conv.closeCode).toBe(1000);
    // TLS to a port other than 443 (a local server behind TLS): its URL keeps https.
    const tlsElsewhere = await run('curl', [...curl, '--cacert', caFile, 'https://llm.bench.test:8443/v1/chat/completions', '-d', '{"model":"gpt-4o-mini","messages":[]}']);
    expect(JSON.parse(tlsElsewhere.stdout).choices[0].message.content).toBe(OPENAI_TEXT);
    await eventually(() => expect(exported(tp)).toHaveLength(4));

    const { stdout } = await run('node', [CLI, '--home', tp.home, 'export', '--format', 'har']);
    const har = JSON.parse(stdout) as { log: { version: string; creator: { name: string }; entries: Entry[] } };
    assertValidHar(har);
    expect(har.log.creator.name).toBe('llmtap');
    const entries = har.log.entries;
    expect(entries.map((e) => [e.request.method, e.request.url, e.response.status])).toEqual([
      ['POST', 'https://api.anthropic.com/v1/messages?beta=true', 200],
      ['POST', `http://127.0.0.1:${plainFake.port}/v1/chat/completions`, 200],
      ['GET', 'wss://api.openai.com/v1/responses', 101],
      ['POST', 'https://llm.bench.test:8443/v1/chat/completions', 200],
    ]);
    const lines = (await run('node', [CLI, '--home', tp.home, 'export'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { port: number; scheme: string });
    expect(lines.map((l) => [l.port, l.scheme])).toEqual([[443, 'https'], [plainFake.port, 'http'], [443, 'https'], [8443, 'https']]);
    const [stream, local, ws] = entries as [Entry, Entry, Entry];
    expect(stream.request.queryString).toEqual([{ name: 'beta', value: 'true' }]);
    expect(JSON.parse(stream.request.postData.text as string).model).toBe('claude-sonnet-4-5');
    expect(stream.response.content.mimeType).toMatch(/^text\/event-stream/);
    expect(stream.response.content.text).toContain('event: message_stop');
    expect(stream._llmtap).toMatchObject({ provider: 'anthropic', model: 'claude-sonnet-4-5', usage: { input_tokens: 21, output_tokens: 9 }, outcome: 'completed' });
    // The stored answer is what the client received, byte for byte.
    expect(stream.response.content.text).toBe(sse.stdout);
    for (const e of entries) {
      for (const phase of ['send', 'wait', 'receive']) expect(e.timings[phase]).toBeGreaterThanOrEqual(0);
      expect(e.time).toBeGreaterThanOrEqual(e.timings.send + e.timings.wait + e.timings.receive - 0.05);
    }
    expect(local.response.content.text).toBe(plain.stdout);
    expect([ws._resourceType, stream._resourceType]).toEqual(['websocket', undefined]);
    const messages = ws._webSocketMessages as Entry[];
    expect(messages.length).toBeGreaterThanOrEqual(4);
    expect(new Set(messages.map((m) => m.type))).toEqual(new Set(['send', 'receive']));
    expect(messages.find((m) => m.type === 'send' && m.opcode === 1)?.data).toContain('response.create');
    for (const m of messages) expect(Math.abs(m.time - Date.parse(ws.startedDateTime) / 1000)).toBeLessThan(60);
  });

  it('--limit, --since and --out work as for jsonl; --tunnels with har is refused in one line', async () => {
    const { stdout } = await run('node', [CLI, '--home', tp.home, 'export', '--format', 'har', '--limit', '1']);
    const one = JSON.parse(stdout) as { log: { entries: Entry[] } };
    assertValidHar(one);
    expect(one.log.entries).toHaveLength(1);
    const { stdout: none } = await run('node', [CLI, '--home', tp.home, 'export', '--format', 'har', '--since', '2999-01-01']);
    expect((JSON.parse(none) as { log: { entries: Entry[] } }).log.entries).toEqual([]);
    const file = join(tp.home, 'out.har');
    const { stderr } = await run('node', [CLI, '--home', tp.home, 'export', '--format', 'har', '--out', file]);
    expect(stderr.trim()).toBe(`llmtap: wrote 4 records to ${file}`);
    assertValidHar(JSON.parse(readFileSync(file, 'utf8')));
    const err = (await run('node', [CLI, '--home', tp.home, 'export', '--format', 'har', '--tunnels']).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(2);
    expect(err.stderr.trim().split('\n').filter((l) => l.startsWith('llmtap:'))).toHaveLength(1);
  });
});
