/**
 * `llmtap mock --timing` waits what the provider took: the recorded time to the response
 * headers, then to the first body byte; without --timing the same answer comes at once.
 * Recorded through the proxy from a fake provider that holds its headers 700 ms and its
 * body 500 ms more, then replayed with no provider running.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy } from '../helpers/start-proxy.js';
import { startCliMock, type CliMock } from '../helpers/cli-mock.js';

const CLI = resolve('dist/cli/main.js');
const run = promisify(execFile);
const PATH = '/echo?delay=700&bodyDelay=500';
const BODY = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"take your time"}]}';
const HEADERS_MS = 700;
const BODY_MS = 500;

let home: string;
const mocks: CliMock[] = [];

/** `llmtap mock` on the recorded home, as a user runs it; its proxy URL. */
async function startMock(extra: string[]): Promise<string> {
  const mock = await startCliMock(home, ['--since', '1h', '--record-home', mkdtempSync(join(tmpdir(), 'llmtap-mock-rec-')), '--connect-to', 'api.openai.com:443:127.0.0.1:9', ...extra]);
  mocks.push(mock);
  return mock.url;
}

/** The replayed answer and how long its headers, then its body, took to arrive. */
async function timedRequest(proxyUrl: string): Promise<{ status: number; body: string; headersMs: number; bodyMs: number }> {
  const agent = new ProxyAgent({ uri: proxyUrl, requestTls: { ca: readFileSync(join(home, 'certs', 'llmtap-ca.pem'), 'utf8') } });
  try {
    const start = performance.now();
    const res = await request(`https://api.openai.com${PATH}`, { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: BODY });
    const headersAt = performance.now();
    const body = await res.body.text();
    return { status: res.statusCode, body, headersMs: headersAt - start, bodyMs: performance.now() - headersAt };
  } finally {
    await agent.close();
  }
}

let recorded: { status: number; body: string; headersMs: number; bodyMs: number };

beforeAll(async () => {
  const fake = await startFakeProvider();
  const tp = await startTestProxy(fake);
  home = tp.home;
  try {
    recorded = await timedRequest(tp.url);
  } finally {
    await tp.close();
    await fake.close();
  }
}, 30_000);

afterAll(async () => {
  for (const m of mocks) await m.stop();
});

describe('llmtap mock --timing', () => {
  it('the archive kept what the provider took: to its headers, then to the end of its body', async () => {
    expect(recorded.status).toBe(200);
    const har = JSON.parse((await run('node', [CLI, '--home', home, 'export', '--format', 'har'])).stdout) as { log: { entries: { timings: { wait: number; receive: number } }[] } };
    const [entry] = har.log.entries;
    // The request leaves before the provider's clock starts, so the wait covers its delay whole;
    // the headers reach llmtap a little after the provider's body clock starts, so the receive
    // time may be short of its delay by that trip (ms on a loaded machine), never the whole.
    expect(entry!.timings.wait).toBeGreaterThanOrEqual(HEADERS_MS - 5);
    expect(entry!.timings.wait + entry!.timings.receive).toBeGreaterThanOrEqual(HEADERS_MS + BODY_MS - 5);
    expect(entry!.timings.receive).toBeGreaterThanOrEqual(BODY_MS - 50);
  });

  it('waits the recorded time to the headers and to the first byte', async () => {
    const replayed = await timedRequest(await startMock(['--timing']));
    expect([replayed.status, replayed.body]).toEqual([recorded.status, recorded.body]);
    expect(replayed.headersMs).toBeGreaterThanOrEqual(HEADERS_MS - 20);
    expect(replayed.bodyMs).toBeGreaterThanOrEqual(BODY_MS - 20);
  });

  it('without --timing answers at once', async () => {
    const replayed = await timedRequest(await startMock([]));
    expect([replayed.status, replayed.body]).toEqual([recorded.status, recorded.body]);
    expect(replayed.headersMs + replayed.bodyMs).toBeLessThan(BODY_MS);
  });
});
