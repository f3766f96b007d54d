/**
 * A reload that takes a user away (or changes their password) closes what that user's
 * login opened and nothing re-checks by itself: a raw tunnel (a host llmtap passes through
 * untouched) and an open WebSocket session (Codex's Responses WebSocket) carry no further
 * request to refuse, so they ran on for as long as their client kept them. Connections of
 * users the reload left as they were go on. Through the built CLI, reloaded by SIGHUP,
 * with real sockets: a TCP echo server behind the tunnel, the fake Responses WebSocket
 * behind the intercepted host.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { hashPasswordLine } from '../../src/proxy/auth.js';
import { startCliProxy, type CliProxy } from '../helpers/cli-proxy.js';
import { startFakeWs, type FakeWs } from '../helpers/fake-websocket.js';
import { closedWithin, sendConnect } from './network-helpers.js';

let fake: FakeWs;
let echo: Server;
let echoPort: number;
let proxy: CliProxy;
let dir: string;
const open: Array<{ destroy(): void }> = [];
const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

async function connectAs(user: string, password: string, authority: string): Promise<Socket> {
  const reply = await sendConnect(proxy.port, authority, `Proxy-Authorization: ${basic(user, password)}\r\n`);
  expect(reply.status).toMatch(/^HTTP\/1\.1 200/);
  open.push(reply.socket);
  return reply.socket;
}

/** A raw tunnel to the echo server as `user`. */
async function tunnel(user: string, password: string): Promise<Socket> {
  return connectAs(user, password, `127.0.0.1:${echoPort}`);
}

/** One round trip through a tunnel: what went in comes back. */
function roundTrip(socket: Socket, text: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no echo')), 2000);
    socket.once('data', (d: Buffer) => {
      clearTimeout(timer);
      resolve(d.toString());
    });
    socket.write(text);
  });
}

/** A Responses WebSocket through the gateway as `user`, one turn answered; `closed` resolves with its close code. */
async function session(user: string, password: string): Promise<{ ws: WebSocket; closed: Promise<number>; turn(): Promise<void> }> {
  const socket = await connectAs(user, password, 'api.openai.com:443');
  const tls = await new Promise<ReturnType<typeof tlsConnect>>((resolve, reject) => {
    const t = tlsConnect({ socket, servername: 'api.openai.com', ca: proxy.ca, ALPNProtocols: ['http/1.1'] });
    t.once('secureConnect', () => resolve(t));
    t.once('error', reject);
  });
  const ws = new WebSocket('wss://api.openai.com/v1/responses', { createConnection: () => tls, headers: { authorization: 'Bearer sk-proj-OPENSESSION0123456789abcdef' } });
  open.push({ destroy: () => ws.terminate() });
  ws.on('error', () => {});
  const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  const turn = (): Promise<void> => new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('no response.completed')), 2000);
    const onMessage = (data: Buffer): void => {
      if (!data.toString().includes('"response.completed"')) return;
      clearTimeout(timer);
      ws.off('message', onMessage);
      resolve();
    };
    ws.on('message', onMessage);
    ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-5-codex', input: [{ role: 'user', content: 'hi' }] }));
  });
  await turn();
  return { ws, closed, turn };
}

const lines = new Map<string, string>();
async function writeUsers(users: Array<[string, string]>): Promise<void> {
  const out: string[] = [];
  for (const [user, password] of users) {
    const key = `${user}:${password}`;
    if (!lines.has(key)) lines.set(key, await hashPasswordLine(user, password));
    out.push(lines.get(key)!);
  }
  writeFileSync(join(dir, 'users.txt'), `${out.join('\n')}\n`);
}

async function reload(users: Array<[string, string]>): Promise<void> {
  await writeUsers(users);
  const mark = proxy.logs().length;
  proxy.child.kill('SIGHUP');
  await proxy.waitLog(mark, 'config reloaded');
}

beforeAll(async () => {
  fake = await startFakeWs();
  echo = createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((resolve) => echo.listen(0, '127.0.0.1', resolve));
  echoPort = (echo.address() as { port: number }).port;
  dir = mkdtempSync(join(tmpdir(), 'llmtap-revoked-open-'));
  await writeUsers([['alice', 'alice-pass'], ['bob', 'bob-pass']]);
  writeFileSync(join(dir, 'config.json'), JSON.stringify({ authFile: join(dir, 'users.txt'), allowTarget: [`127.0.0.1:${echoPort}`] }));
  proxy = await startCliProxy(fake, ['--config', join(dir, 'config.json')]);
}, 60_000);

afterAll(async () => {
  for (const s of open) s.destroy();
  await proxy?.stop();
  await fake?.close();
  await new Promise((r) => echo?.close(r));
});

describe('a reload that removes a user or changes a password, on connections already open', () => {
  it('closes that user\'s raw tunnels and WebSocket sessions at once, logs each, and leaves the others running', async () => {
    const aliceTunnel = await tunnel('alice', 'alice-pass');
    const bobTunnel = await tunnel('bob', 'bob-pass');
    expect(await roundTrip(bobTunnel, 'bob 1')).toBe('bob 1');
    const aliceWs = await session('alice', 'alice-pass');
    const bobWs = await session('bob', 'bob-pass');

    const mark = proxy.logs().length;
    // Alice's line is written again as it was; Bob's goes.
    await reload([['alice', 'alice-pass']]);
    await closedWithin(bobTunnel, 2000);
    expect(await bobWs.closed).toBe(1008); // policy violation, with llmtap's code as the reason
    const closedLines = async (n: number) => {
      for (let i = 0; i < 100 && proxy.logs().slice(mark).filter((l) => l.msg === 'connection closed: its login no longer holds').length < n; i++) await new Promise((r) => setTimeout(r, 20));
      return proxy.logs().slice(mark).filter((l) => l.msg === 'connection closed: its login no longer holds');
    };
    const closed = await closedLines(2);
    expect(closed.map((l) => ({ user: l.user, host: l.host, kind: l.kind })).sort((a, b) => String(a.kind).localeCompare(String(b.kind)))).toEqual([
      { user: 'bob', host: `127.0.0.1:${echoPort}`, kind: 'tunnel' },
      { user: 'bob', host: 'api.openai.com:443', kind: 'websocket' },
    ]);
    // Recorded as ended by llmtap for that reason, not as the client's own close.
    expect(await proxy.waitLog(mark, 'tunnel')).toMatchObject({ host: `127.0.0.1:${echoPort}`, outcome: 'proxy_auth_required' });
    expect(await proxy.waitLog(mark, 'websocket')).toMatchObject({ outcome: 'blocked' });
    expect(proxy.stderr()).not.toContain('bob-pass');
    expect(proxy.stderr()).not.toContain(basic('bob', 'bob-pass').slice(6));

    // Alice's are untouched.
    expect(await roundTrip(aliceTunnel, 'alice 1')).toBe('alice 1');
    await aliceWs.turn();
    expect(aliceWs.ws.readyState).toBe(WebSocket.OPEN);

    // A new password: her tunnel and session opened with the old one close too.
    await reload([['alice', 'alice-new-pass']]);
    await closedWithin(aliceTunnel, 2000);
    expect(await aliceWs.closed).toBe(1008);
    expect((await closedLines(4)).filter((l) => l.user === 'alice')).toHaveLength(2);
  }, 30_000);
});
