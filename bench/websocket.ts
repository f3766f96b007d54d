/**
 * The WebSocket row: per-message delay (server send → client receive, on the
 * CLOCK_MONOTONIC every process shares) direct vs through a proxy, and the proxy's
 * RSS with many WebSockets open at once. The client runs in the bench process; the
 * server is the fake provider's WebSocket endpoint (permessage-deflate negotiated,
 * so llmtap's copy is inflated with context takeover on both directions).
 */
import { request as httpRequest } from 'node:http';
import type { Socket } from 'node:net';
import { connect as tlsConnect, type TLSSocket } from 'node:tls';
import { WebSocket } from 'ws';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { memOf, sleep } from './procs.js';
import { summarize, type Summary } from './stats.js';
import { startLlmtap, type FakeInfo, type RunningSystem } from './systems.js';

export interface WsDelay {
  messages: number;
  delayMs: Summary;
}

export interface WsOpen {
  sockets: number;
  opened: number;
  idleRssBytes?: number;
  openRssBytes?: number;
  perSocketBytes?: number;
  openMs: number;
}

const HOST = 'api.openai.com';

async function tunnel(proxyUrl: string): Promise<Socket> {
  const proxy = new URL(proxyUrl);
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: proxy.hostname, port: Number(proxy.port), method: 'CONNECT', path: `${HOST}:443`, headers: { host: `${HOST}:443` } });
    req.once('connect', (res, socket) => (res.statusCode === 200 ? resolve(socket) : reject(new Error(`CONNECT ${res.statusCode}`))));
    req.once('error', reject);
    req.end();
  });
}

async function openWs(fake: FakeInfo, sys: RunningSystem | undefined): Promise<WebSocket> {
  const socket = sys ? await tunnel(sys.proxyUrl) : undefined;
  const tls: TLSSocket = await new Promise((resolve, reject) => {
    const t = tlsConnect({ ...(socket ? { socket } : { host: '127.0.0.1', port: fake.httpsPort }), servername: HOST, ca: sys ? sys.caPem : fake.caPem, ALPNProtocols: ['http/1.1'] });
    t.once('secureConnect', () => resolve(t));
    t.once('error', reject);
  });
  const ws = new WebSocket(`wss://${HOST}/v1/responses`, { createConnection: () => tls, perMessageDeflate: process.env.BENCH_WS_DEFLATE !== '0' });
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return ws;
}

/** `sessions` WebSockets one after another, each asking for `messages` messages `gapMs` apart. */
export async function wsDelayRun(fake: FakeInfo, sys: RunningSystem | undefined, sessions: number, messages: number, gapMs: number): Promise<WsDelay> {
  const samples: number[] = [];
  for (let s = 0; s < sessions; s++) {
    const ws = await openWs(fake, sys);
    await new Promise<void>((resolve) => {
      let got = 0;
      ws.on('message', (data) => {
        const now = process.hrtime.bigint();
        const sent = BigInt((JSON.parse(data.toString()) as { bench_sent_ns: string }).bench_sent_ns);
        if (s > 0 || got >= 5) samples.push(Number(now - sent) / 1e6); // the first messages warm up
        if (++got === messages) resolve();
      });
      ws.send(JSON.stringify({ type: 'response.create', n: messages, gapMs }));
    });
    ws.close(1000);
    await new Promise((r) => ws.once('close', r));
  }
  return { messages: samples.length, delayMs: summarize(samples) };
}

/** Opens `count` WebSockets through the proxy (each exchanges one message each way) and reads its RSS while they idle. */
export async function wsOpenRun(fake: FakeInfo, sys: RunningSystem, count: number, concurrency = 16): Promise<WsOpen> {
  const idle = memOf(sys.pid)?.rss;
  const open: WebSocket[] = [];
  const started = performance.now();
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < count) {
      next++;
      try {
        const ws = await openWs(fake, sys);
        await new Promise<void>((resolve) => {
          ws.once('message', () => resolve());
          ws.send(JSON.stringify({ type: 'response.create', n: 1 }));
        });
        open.push(ws);
      } catch {
        // counted as not opened
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const openMs = performance.now() - started;
  await sleep(1500); // let the proxy's garbage collector settle
  const rss = memOf(sys.pid)?.rss;
  await Promise.all(open.map((ws) => new Promise<void>((resolve) => {
    ws.once('close', () => resolve());
    ws.close(1000);
  })));
  return {
    sockets: count, opened: open.length, idleRssBytes: idle, openRssBytes: rss, openMs,
    perSocketBytes: idle !== undefined && rss !== undefined && open.length > 0 ? (rss - idle) / open.length : undefined,
  };
}

/** Request → first answer, one request at a time in one session (what a Codex turn waits before its first event). */
export interface WsRoundTrips {
  requests: number;
  direct: Summary;
  llmtap: Summary;
  /** Through llmtap under access rules: each response.create is held until the rules have judged the model it names. */
  screened: Summary;
}

/** `requests` response.create messages one after another in one session; the time from each send to its first answer (after `warm` uncounted). */
export async function wsRoundTripRun(fake: FakeInfo, sys: RunningSystem | undefined, requests: number, warm = 20): Promise<Summary> {
  const ws = await openWs(fake, sys);
  const samples: number[] = [];
  for (let i = 0; i < warm + requests; i++) {
    const started = process.hrtime.bigint();
    await new Promise<void>((resolve) => {
      ws.once('message', () => resolve());
      ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-5-codex', input: [{ role: 'user', content: 'Say hello.' }], n: 1 }));
    });
    if (i >= warm) samples.push(Number(process.hrtime.bigint() - started) / 1e6);
  }
  ws.close(1000);
  await new Promise((r) => ws.once('close', r));
  return summarize(samples);
}

/** The access rules of the screened round trips: the bench's model allowed, anything else refused. */
const SCREENING_POLICY = 'rules:\n  - {id: codex, match: {model: "gpt-5*"}, action: allow}\n  - {id: nothing-else, action: deny}\n';

/** Round trips direct, through llmtap, and through llmtap judging each request by its model (a fresh proxy each). */
export async function wsRoundTrips(fake: FakeInfo, tmp: string, requests: number): Promise<WsRoundTrips> {
  const direct = await wsRoundTripRun(fake, undefined, requests);
  const run = async (name: string, args: string[]): Promise<Summary> => {
    const sys = await startLlmtap(tmp, fake, name, { args });
    try {
      return await wsRoundTripRun(fake, sys, requests);
    } finally {
      await sys.stop();
    }
  };
  const llmtap = await run('llmtap-ws-rtt', []);
  const policyFile = join(tmp, 'ws-screening.yaml');
  writeFileSync(policyFile, SCREENING_POLICY);
  const screened = await run('llmtap-ws-screened', ['--policy', policyFile]);
  return { requests, direct, llmtap, screened };
}

export function formatRoundTrips(r: WsRoundTrips): string {
  const f = (s: Summary): string => `${s.p50.toFixed(3)} / ${s.p99.toFixed(3)} ms`;
  return `WebSocket request → first answer (${r.requests} requests one at a time in one session, p50 / p99): direct ${f(r.direct)}, through llmtap ${f(r.llmtap)}, through llmtap with access rules judging each request's model ${f(r.screened)}`;
}

/** The bench's WebSocket phase: per-message delay direct and through llmtap, RSS with many open, then request round trips. */
export async function wsPhase(fake: FakeInfo, tmp: string, n: { sessions: number; perSession: number; sockets: number; roundTrips: number }): Promise<{ result: { direct: WsDelay; llmtap: WsDelay; open: WsOpen; roundTrip: WsRoundTrips }; lines: string[] }> {
  const direct = await wsDelayRun(fake, undefined, n.sessions, n.perSession, 2);
  const sys = await startLlmtap(tmp, fake, 'llmtap-ws');
  let llmtap: WsDelay;
  let open: WsOpen;
  try {
    llmtap = await wsDelayRun(fake, sys, n.sessions, n.perSession, 2);
    open = await wsOpenRun(fake, sys, n.sockets);
  } finally {
    await sys.stop();
  }
  const roundTrip = await wsRoundTrips(fake, tmp, n.roundTrips);
  return { result: { direct, llmtap, open, roundTrip }, lines: [formatWs('direct', direct), formatWs('through llmtap', llmtap, open), formatRoundTrips(roundTrip)] };
}

export function formatWs(label: string, delay: WsDelay, open?: WsOpen): string {
  const d = delay.delayMs;
  const mem = open ? ` | ${open.opened}/${open.sockets} open: RSS ${(open.idleRssBytes! / 2 ** 20).toFixed(0)} → ${(open.openRssBytes! / 2 ** 20).toFixed(0)} MiB (${(open.perSocketBytes! / 1024).toFixed(1)} KiB per WebSocket), opened in ${(open.openMs / 1000).toFixed(1)} s` : '';
  return `WebSocket ${label}: ${delay.messages} messages, delay p50 ${d.p50.toFixed(3)} ms, p99 ${d.p99.toFixed(3)} ms${mem}`;
}
