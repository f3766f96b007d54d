/**
 * One live proxy per fuzz file, wired so that every upstream connection it can
 * make (tunnels, intercepted and plain-HTTP requests, whatever host a fuzzed
 * request names) lands on a loopback fake provider: port 80 on the plain-HTTP
 * fake, everything else on the TLS fake. Nothing leaves the machine, no DNS.
 */
import { expect } from 'vitest';
import { request } from 'undici';
import { parseConnectTo } from '../../src/config.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { FAKE_HOSTS, startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { activeResources, proxySockets, socketResources, until, watchCrashes } from './support.js';

export interface LiveHarness {
  tp: TestProxy;
  /** TLS fake (api.openai.com, api.anthropic.com and any other name on any port but 80). */
  fake: FakeProvider;
  /** Plain-HTTP fake (any host on port 80). */
  plain: FakeProvider;
  port: number;
  crashes: ReturnType<typeof watchCrashes>;
  baseline: { proxySockets: number; socketResources: number; resources: number };
  close(): Promise<void>;
}

export async function startLiveHarness(): Promise<LiveHarness> {
  const crashes = watchCrashes();
  const fake = await startFakeProvider();
  const plain = await startFakeProvider({ tls: false });
  const tp = await startTestProxy(fake, {
    // Bodies here are small; a small capture keeps the archive of a long run small too.
    captureLimit: 64 * 1024,
    connectTo: [
      ...FAKE_HOSTS.map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`)),
      parseConnectTo(`:80:127.0.0.1:${plain.port}`),
      parseConnectTo(`::127.0.0.1:${fake.port}`),
    ],
  });
  const baseline = { proxySockets: proxySockets(tp.proxy.server).size, socketResources: socketResources(), resources: process.getActiveResourcesInfo().length };
  return {
    tp, fake, plain, port: tp.proxy.address.port, crashes, baseline,
    async close() {
      await tp.close();
      await fake.close();
      await plain.close();
      crashes.dispose();
    },
  };
}

/** Open sockets of this process as local→remote port pairs, with names for the harness's own ports. */
export function describeSockets(h: LiveHarness): string {
  const names = new Map([[h.port, 'proxy'], [h.fake.port, 'fake-tls'], [h.plain.port, 'fake-plain']]);
  const handles = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
  return handles
    .filter((x): x is { localPort?: number; remotePort?: number; destroyed?: boolean; constructor: { name: string } } => typeof x === 'object' && x !== null && 'remotePort' in x)
    .map((x) => `${x.constructor.name} ${names.get(x.localPort ?? 0) ?? x.localPort}→${names.get(x.remotePort ?? 0) ?? x.remotePort}`)
    .join(', ');
}

/** Keeps the fakes' request logs from growing through a long run. */
export function forgetSeen(h: LiveHarness): void {
  h.fake.seen.length = 0;
  h.plain.seen.length = 0;
}

/**
 * With FUZZ_STRICT=1, after each case: the proxy lets go of the case's client socket
 * within `ms` of the client closing it (finds which case leaks, at some cost per case).
 */
export async function expectReleased(h: LiveHarness, what: string, ms = 3_000): Promise<void> {
  if (process.env.FUZZ_STRICT !== '1') return;
  const sockets = proxySockets(h.tp.proxy.server);
  const released = await until(() => sockets.size <= h.baseline.proxySockets, ms, 5);
  expect(released, `proxy still holds ${sockets.size} client socket(s) ${ms} ms after the client closed: ${what}`).toBe(true);
}

export function expectNoCrash(h: LiveHarness): void {
  expect(h.crashes.errors.map((e) => (e instanceof Error ? e.stack ?? e.message : String(e)))).toEqual([]);
}

/**
 * After a run: no crash, nothing in flight, the proxy's client sockets and the
 * process's socket handles back to where they started, and a normal request
 * through undici's ProxyAgent still works.
 */
export async function expectHealthy(h: LiveHarness): Promise<void> {
  expectNoCrash(h);
  const sockets = proxySockets(h.tp.proxy.server);
  const metrics = h.tp.proxy.server.metrics;
  const drained = await until(() => sockets.size <= h.baseline.proxySockets && metrics.inFlight === 0, 5_000);
  const held = ([...sockets] as import('node:net').Socket[]).map((s) => `${s.remotePort ?? '?'} readable=${s.readable} writable=${s.writable} read=${s.bytesRead} written=${s.bytesWritten}`).join('; ');
  expect(drained, `proxy still holds ${sockets.size} client sockets (baseline ${h.baseline.proxySockets}), ${metrics.inFlight} exchanges in flight: ${held}; ${describeSockets(h)}`).toBe(true);
  // Upstream keep-alive sockets close when the fakes' 5 s keep-alive timeout passes.
  const released = await until(() => socketResources() <= h.baseline.socketResources + 2, 15_000, 100);
  expect(released, `socket handles: ${socketResources()} (baseline ${h.baseline.socketResources}): ${describeSockets(h)}`).toBe(true);
  // Nor timers, file or other handles: everything that keeps the event loop alive is back near where it started.
  const settled = await until(() => process.getActiveResourcesInfo().length <= h.baseline.resources + 4, 5_000, 100);
  expect(settled, `active resources: ${JSON.stringify(activeResources())} (baseline ${h.baseline.resources} in all)`).toBe(true);

  const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'still there?' }] });
  const res = await request('https://api.openai.com/v1/chat/completions', {
    method: 'POST', dispatcher: h.tp.agent, body,
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
  });
  expect(res.statusCode).toBe(200);
  const json = (await res.body.json()) as { choices: Array<{ message: { content: string } }> };
  expect(json.choices[0]?.message.content).toBeTruthy();
  expectNoCrash(h);
}
