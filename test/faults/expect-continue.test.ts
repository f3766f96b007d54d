/**
 * `Expect: 100-continue` asks the server whether to send the body at all (RFC 9110
 * §10.1.1). A request llmtap refuses from its head alone — a declared body over
 * --max-request-body, a refused head (two Host fields) — gets its refusal instead of
 * `100 Continue`, so the client never uploads a body that is thrown away. Any other
 * request gets its 100 as before. Checked with raw sockets (what arrives first) and
 * with curl, which sends Expect by itself for a large body.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { interceptedSocket, plainSocketTo } from '../helpers/raw-client.js';
import { FAKE_HOSTS, startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const run = promisify(execFile);
const LIMIT = 64 * 1024;
let tlsFake: FakeProvider;
let plainFake: FakeProvider;
let tp: TestProxy;
let caFile: string;
let bigBody: string;

beforeAll(async () => {
  tlsFake = await startFakeProvider();
  plainFake = await startFakeProvider({ tls: false });
  tp = await startTestProxy(tlsFake, {
    maxRequestBody: LIMIT,
    policy: loadPolicyText('rules:\n  - {id: small-embeddings, match: {path: /v1/embeddings}, limits: {maxRequestBytes: 100}}\n', 'policy.yaml'),
    intercept: ['plain.test:80'],
    connectTo: [...FAKE_HOSTS.map((h) => parseConnectTo(`${h}:443:127.0.0.1:${tlsFake.port}`)), parseConnectTo(`plain.test:80:127.0.0.1:${plainFake.port}`)],
  });
  caFile = join(tp.home, 'client-ca.pem');
  writeFileSync(caFile, tp.caPem);
  bigBody = join(tp.home, 'big.json');
  writeFileSync(bigBody, JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'x'.repeat(8 * 1024 * 1024) }] }));
});
beforeEach(() => {
  tlsFake.seen.length = 0;
  plainFake.seen.length = 0;
});
afterAll(async () => {
  await tp?.close();
  await tlsFake?.close();
  await plainFake?.close();
});

/** Sends a request head only (no body) and reads what comes back within `ms`. */
function headOnly(socket: Socket, head: string, ms = 1500): Promise<string> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const done = (): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(Buffer.concat(chunks).toString('latin1'));
    };
    const timer = setTimeout(done, ms);
    socket.on('data', (c: Buffer) => chunks.push(c));
    socket.on('error', () => {});
    socket.once('close', done);
    socket.write(head);
  });
}

const intercepted = (): Promise<Socket> => interceptedSocket(tp.proxy.address.port, tp.caPem);
const plain = (): Promise<Socket> => plainSocketTo(tp.proxy.address.port);

function expectHead(target: string, host: string, length: number, extra = ''): string {
  return `POST ${target} HTTP/1.1\r\nHost: ${host}\r\n${extra}Content-Type: application/json\r\nExpect: 100-continue\r\nContent-Length: ${length}\r\n\r\n`;
}

describe('Expect: 100-continue', () => {
  it('a declared body over --max-request-body: 413 instead of 100 Continue (intercepted and plain)', async () => {
    for (const [name, socket, target, host] of [
      ['intercepted', await intercepted(), '/v1/chat/completions', 'api.openai.com'],
      ['plain', await plain(), 'http://plain.test/v1/chat/completions', 'plain.test'],
    ] as const) {
      const answer = await headOnly(socket, expectHead(target, host, LIMIT + 1));
      expect(answer, name).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer, name).not.toContain('100 Continue');
      expect(answer.toLowerCase(), name).toContain('x-llmtap-error: request_too_large');
    }
    expect(tlsFake.seen).toEqual([]);
    expect(plainFake.seen).toEqual([]);
    await eventually(() => expect(exported(tp).filter((e) => e.error_code === 'request_too_large').length).toBeGreaterThanOrEqual(2));
  });

  it('a declared body over a policy limit (maxRequestBytes) the head decides: 413 instead of 100 Continue, connection closed', async () => {
    const socket = await intercepted();
    const answer = await headOnly(socket, expectHead('/v1/embeddings', 'api.openai.com', 101));
    expect(answer).toMatch(/^HTTP\/1\.1 413 /);
    expect(answer).not.toContain('100 Continue');
    expect(answer.toLowerCase()).toContain('x-llmtap-error: request_too_large');
    expect(answer.toLowerCase()).toContain('connection: close');
    expect(answer).toContain('small-embeddings');
    expect(tlsFake.seen).toEqual([]);
    await eventually(() => expect(exported(tp).some((e) => e.path === '/v1/embeddings' && e.outcome === 'blocked' && e.error_code === 'request_too_large')).toBe(true));
  });

  it('a refused head (two Host fields): 400 instead of 100 Continue', async () => {
    const answer = await headOnly(await intercepted(), expectHead('/v1/chat/completions', 'api.openai.com', 10, 'Host: evil.test\r\n'));
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).not.toContain('100 Continue');
  });

  it('a request within the limits still gets 100 Continue, then its answer once the body is sent', async () => {
    const body = '{"model":"gpt-4o-mini","messages":[]}';
    const socket = await intercepted();
    const first = await new Promise<string>((resolve) => {
      socket.once('data', (c: Buffer) => resolve(c.toString('latin1')));
      socket.write(expectHead('/v1/chat/completions', 'api.openai.com', body.length, 'Connection: close\r\n'));
    });
    expect(first).toBe('HTTP/1.1 100 Continue\r\n\r\n');
    const rest = await headOnly(socket, body, 3000);
    expect(rest).toMatch(/^HTTP\/1\.1 200 /);
    expect(tlsFake.seen).toHaveLength(1);
  });

  it('curl posting a body within the limits with Expect gets its 100 at once (not after its timeout), then the answer', async () => {
    const within = join(tp.home, 'within.json');
    writeFileSync(within, JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'y'.repeat(32 * 1024) }] }));
    const { stdout } = await run('curl', ['-sS', '--proxy', tp.url, '--cacert', caFile, '-H', 'content-type: application/json', '-H', 'Expect: 100-continue',
      '--expect100-timeout', '5', '--data-binary', `@${within}`, '-o', '/dev/null', '-w', '%{http_code} %{size_upload} %{time_total}', 'https://api.openai.com/v1/chat/completions']);
    const [status, uploaded, seconds] = stdout.split(' ');
    expect(status).toBe('200');
    expect(Number(uploaded)).toBeGreaterThan(32 * 1024);
    expect(Number(seconds)).toBeLessThan(4); // had the 100 not come, curl would have waited its 5 s
    expect(tlsFake.seen).toHaveLength(1);
  });

  it('curl posting 8 MB with Expect gets 413 without uploading the body', async () => {
    // curl's own Expect: 100-continue; %{size_upload} is what it sent of the body.
    const { stdout } = await run('curl', ['-sS', '--proxy', tp.url, '--cacert', caFile, '-H', 'content-type: application/json', '-H', 'Expect: 100-continue',
      '--expect100-timeout', '10', '--data-binary', `@${bigBody}`, '-o', '/dev/null', '-w', '%{http_code} %{size_upload}', 'https://api.openai.com/v1/chat/completions']);
    const [status, uploaded] = stdout.split(' ');
    expect(status).toBe('413');
    expect(Number(uploaded)).toBe(0);
  });
});
