import { checkServerIdentity, type PeerCertificate } from 'node:tls';
import { Agent, ProxyAgent, buildConnector, type Dispatcher } from 'undici';
import { monoMs } from './stats.js';

/** How the load generator reaches the fake provider. */
export interface TargetSpec {
  via: 'direct' | 'proxy';
  /** http://127.0.0.1:PORT of the proxy under test. */
  proxyUrl?: string;
  /** CA the client trusts for the origin's TLS: the fake's (direct, tunnel) or the proxy's (intercepted). */
  ca: string;
  /** Direct only: every host name is connected to 127.0.0.1:fakePort (SNI and Host keep the name). */
  fakePort: number;
  /** The origin host the client asks for. */
  host: string;
}

/**
 * A keep-alive undici dispatcher with up to `connections` sockets per origin.
 * Through a proxy it is a ProxyAgent: one CONNECT per socket, then TLS to the origin
 * inside it, then any number of requests on that socket. `onCertificate` sees each
 * server certificate the client accepts (the usual name check still applies).
 */
export function makeDispatcher(spec: TargetSpec, connections: number, onCertificate?: (cert: PeerCertificate) => void): Dispatcher {
  const common = { connections, keepAliveTimeout: 120_000, keepAliveMaxTimeout: 120_000, headersTimeout: 60_000, bodyTimeout: 120_000 };
  const identity = onCertificate && ((host: string, cert: PeerCertificate): Error | undefined => {
    onCertificate(cert);
    return checkServerIdentity(host, cert);
  });
  if (spec.via === 'proxy') {
    return new ProxyAgent({ uri: spec.proxyUrl!, requestTls: { ca: spec.ca, ...(identity ? { checkServerIdentity: identity } : {}) }, ...common });
  }
  const base = buildConnector({ ca: spec.ca, rejectUnauthorized: true, keepAlive: true, ...(identity ? { checkServerIdentity: identity } : {}) } as buildConnector.BuildOptions);
  return new Agent({
    ...common,
    connect: (opts, callback) => base({ ...opts, hostname: '127.0.0.1', port: String(spec.fakePort), servername: opts.hostname } as typeof opts, callback),
  });
}

const CHAT_BODY = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'system', content: 'You are terse.' }, { role: 'user', content: 'Say hello.' }] });
const HEADERS = { 'content-type': 'application/json', authorization: 'Bearer sk-bench-not-a-key', 'user-agent': 'llmtap-bench/1' };
/**
 * A fresh copy per request: undici's ProxyAgent writes the origin's `host` into the headers
 * object it is handed, and a shared one would then send the first origin's Host to every
 * later one (the new-hosts phase's requests all refused as target_mismatch).
 */
const headers = (): Record<string, string> => ({ ...HEADERS });

/** One non-streaming chat completion; resolves with its latency in ms (start to last body byte). */
export async function chatOnce(d: Dispatcher, host: string): Promise<number> {
  const t0 = performance.now();
  const res = await d.request({ origin: `https://${host}`, path: '/v1/chat/completions', method: 'POST', headers: headers(), body: CHAT_BODY });
  await res.body.arrayBuffer();
  if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
  return performance.now() - t0;
}

export interface StreamTiming {
  /** Request start to first complete event, ms. */
  ttft: number;
  /** Per event: client receive time minus the fake's send time, ms (same monotonic clock). */
  delays: number[];
  events: number;
}

/**
 * One SSE chat completion of `events` events `gapMs` apart. Events are timed when the
 * chunk that completes them arrives. `onFirst` fires at the first event.
 */
export async function streamOnce(d: Dispatcher, host: string, events: number, gapMs: number, opts: { signal?: AbortSignal; onFirst?: () => void; collect?: boolean } = {}): Promise<StreamTiming> {
  const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'Count.' }], stream: true, bench: { n: events, gapMs } });
  const t0 = monoMs();
  const res = await d.request({ origin: `https://${host}`, path: '/v1/chat/completions', method: 'POST', headers: headers(), body, signal: opts.signal });
  if (res.statusCode !== 200) {
    await res.body.dump();
    throw new Error(`status ${res.statusCode}`);
  }
  const timing: StreamTiming = { ttft: NaN, delays: [], events: 0 };
  let buf = '';
  await new Promise<void>((resolve, reject) => {
    res.body.on('data', (chunk: Buffer) => {
      const now = monoMs();
      buf += chunk.toString('utf8');
      let end: number;
      while ((end = buf.indexOf('\n\n')) >= 0) {
        const event = buf.slice(0, end);
        buf = buf.slice(end + 2);
        const at = event.indexOf('"bench_sent_ns":"');
        if (at < 0) continue;
        const sent = Number(event.slice(at + 17, event.indexOf('"', at + 17))) / 1e6;
        if (timing.events === 0) {
          timing.ttft = now - t0;
          opts.onFirst?.();
        }
        timing.events++;
        if (opts.collect !== false) timing.delays.push(now - sent);
      }
    });
    res.body.once('end', resolve);
    res.body.once('error', reject);
  });
  return timing;
}
