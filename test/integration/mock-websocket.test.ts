import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { openTls, startFakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy } from '../helpers/start-proxy.js';
import { startCliMock, type CliMock } from '../helpers/cli-mock.js';
import { converse, type Conversation } from '../helpers/ws-conversation.js';
import { parseConnectTo } from '../../src/config.js';

const CLI = resolve('dist/cli/main.js');

let home: string;
let recorded: Conversation;
let mock: CliMock;

beforeAll(async () => {
  // Record a Responses-over-WebSocket session (permessage-deflate on) through a normal proxy.
  const fake = await startFakeWs({ perMessageDeflate: true });
  const tp = await startTestProxy(undefined, { connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile] });
  home = tp.home;
  try {
    recorded = await converse(await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem }), { deflate: true });
  } finally {
    await tp.close(); // flushes the archive
    await fake.close(); // no provider from here on
  }
  // The mock, as a user runs it; --connect-to points at a dead port: a forward would fail loudly.
  mock = await startCliMock(home, ['--since', '1h', '--connect-to', 'api.openai.com:443:127.0.0.1:9']);
}, 60_000);

afterAll(async () => {
  await mock?.stop();
});

const tls = () => openTls({ proxyPort: mock.port, fakePort: 9, ca: mock.ca });

describe('llmtap mock: a recorded WebSocket session replayed with no provider running', () => {
  it('gives the same server messages, in order, to the same client code (deflate offered and declined)', async () => {
    expect(recorded.got.length).toBeGreaterThan(10);
    const replayed = await converse(await tls(), { deflate: true });
    expect(replayed.got).toEqual(recorded.got);
    expect(replayed.closeCode).toBe(1000);
    const names = replayed.upgradeHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    expect(names).toContain('x-llmtap-mock');
    expect(names).not.toContain('sec-websocket-extensions');
  });

  it('answers an unrecorded message with an error event naming no_recording, and the session stays open', async () => {
    const socket = await tls();
    const ws = new WebSocket('wss://api.openai.com/v1/responses', { createConnection: () => socket, headers: { authorization: 'Bearer none' } });
    const got: string[] = [];
    const next = (): Promise<string> => new Promise((ok) => ws.once('message', (d) => ok(d.toString())));
    await new Promise<void>((ok, fail) => ws.once('open', ok).once('error', fail));
    ws.on('message', (d) => got.push(d.toString()));
    const first = next();
    ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-5-codex', input: [{ role: 'user', content: 'never asked' }] }));
    const error = JSON.parse(await first) as { type: string; status: number; error: { code: string; message: string } };
    expect(error).toMatchObject({ type: 'error', status: 404, error: { code: 'no_recording' } });
    expect(error.error.message).toMatch(/nearest recording \S+ differs at input\[0\]\.content: recorded "first turn ", got "never asked"/);
    // Still open: a recorded message is answered on the same connection.
    const completed = new Promise<void>((ok) => ws.on('message', (d) => d.toString().includes('response.completed') && ok()));
    ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-5-codex', input: [{ role: 'user', content: 'first turn ' }] }));
    await completed;
    expect(got.slice(1)).toEqual(recorded.got.slice(0, got.length - 1).map((g) => g.data));
    // The mock answers the client's close as a provider's server does: its code and its reason.
    const closed = await new Promise<[number, string]>((ok) => ws.once('close', (code, reason) => ok([code, reason.toString()])).close(4000, 'done here'));
    expect(closed).toEqual([4000, 'done here']);
  });

  it('refuses an upgrade on a path never recorded with no_recording', async () => {
    const socket = await tls();
    const ws = new WebSocket('wss://api.openai.com/v1/realtime?model=gpt-realtime', { createConnection: () => socket });
    const res = await new Promise<{ status: number; code: string | undefined }>((ok) => ws.once('unexpected-response', (_req, r) => ok({ status: r.statusCode ?? 0, code: r.headers['x-llmtap-error'] as string | undefined })));
    expect(res).toEqual({ status: 404, code: 'no_recording' });
    socket.destroy();
  });

  it('counts the sessions and messages it answered when it stops', async () => {
    await mock.stop();
    expect(mock.stderr()).toMatch(/llmtap mock: 2 WebSocket sessions replayed, 4 messages answered, 1 with no recording/);
    // Its own archive holds the replayed sessions with their messages, the error event among them.
    const lines = (await promisify(execFile)('node', [CLI, '--home', join(home, 'mock'), 'export'])).stdout.trim().split('\n').map((l) => JSON.parse(l) as { status: number; outcome: string; websocket?: { messages: { direction: string; text?: string }[] } });
    const sessions = lines.filter((l) => l.status === 101);
    expect(sessions.map((l) => l.outcome)).toEqual(['completed', 'completed']);
    expect(sessions[0]!.websocket!.messages.filter((m) => m.direction === 'server' && m.text).map((m) => m.text)).toEqual(recorded.got.filter((g) => !g.binary).map((g) => g.data));
    expect(JSON.stringify(sessions[1])).toContain('no_recording');
  });
});
