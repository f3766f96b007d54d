import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { checkServerIdentity, createSecureContext, rootCertificates, type PeerCertificate, type SecureContext } from 'node:tls';
import { Pool, buildConnector } from 'undici';
import { resolveConnectTo, type ConnectTo } from '../config.js';
import { formatAuthority } from './route.js';
import { guardedLookup, type TargetPolicy } from './target-guard.js';

export interface UpstreamOptions {
  connectTo: readonly ConnectTo[];
  /** PEM files trusted next to the system roots. */
  extraCaFiles: readonly string[];
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  idleTimeoutMs: number;
  /** Refuses forbidden addresses after DNS; read at connect time, so a reload applies to new connections. */
  targetPolicy: () => TargetPolicy;
  /** Keep-alive connections per origin. */
  connectionsPerOrigin?: number | null;
}

/** Plain-HTTP clients can name any host; keep-alive pools for at most this many origins. */
const MAX_ORIGINS = 256;

const SYSTEM_BUNDLE = '/etc/ssl/certs/ca-certificates.crt';

/**
 * The roots upstream certificates are checked against: Node's bundled Mozilla
 * roots, the OS bundle where present (so a corporate root installed there works),
 * and any --upstream-ca. Verification is never switched off.
 */
export function upstreamTrust(extraCaFiles: readonly string[]): string[] {
  const roots = [...rootCertificates];
  if (existsSync(SYSTEM_BUNDLE)) roots.push(readFileSync(SYSTEM_BUNDLE, 'utf8'));
  for (const file of extraCaFiles) roots.push(readFileSync(file, 'utf8'));
  return roots;
}

/**
 * One keep-alive undici Pool per upstream origin. --connect-to changes where the
 * socket goes, never the SNI name or Host header, so certificates are checked
 * against the real provider name.
 */
export class UpstreamPools {
  private readonly pools = new Map<string, Pool>();
  /** Built once: parsing ~300 roots per new connection costs tens of milliseconds of CPU. */
  private readonly trust: SecureContext;

  constructor(private readonly options: UpstreamOptions) {
    this.trust = createSecureContext({ ca: upstreamTrust(options.extraCaFiles) });
  }

  get(tls: boolean, host: string, port: number): Pool {
    const origin = `${tls ? 'https' : 'http'}://${formatAuthority(host, port)}`;
    let pool = this.pools.get(origin);
    if (pool) {
      // Most recently used last, so eviction below takes the longest-unused origin.
      this.pools.delete(origin);
    } else {
      pool = this.create(origin, tls, host, port);
    }
    this.pools.set(origin, pool);
    if (this.pools.size > MAX_ORIGINS) {
      const [oldest, stale] = this.pools.entries().next().value as [string, Pool];
      this.pools.delete(oldest);
      // close() lets requests still running on it finish.
      void stale.close().catch(() => stale.destroy());
    }
    return pool;
  }

  private create(origin: string, tls: boolean, host: string, port: number): Pool {
    const target = resolveConnectTo(this.options.connectTo, host, port);
    // An operator's --connect-to rule is an explicit choice of address: not second-guessed.
    const mapped = target.host !== host || target.port !== port;
    const lookup = mapped ? undefined : guardedLookup(this.options.targetPolicy, host, port);
    // The certificate is always checked against the origin's name, never the --connect-to
    // address; an IP origin is checked against its IP SAN and never sent as SNI (RFC 6066 3).
    const identity = (_name: string, cert: PeerCertificate): Error | undefined => checkServerIdentity(host, cert);
    const base = buildConnector({ secureContext: this.trust, rejectUnauthorized: true, keepAlive: true, timeout: this.options.connectTimeoutMs, checkServerIdentity: identity, ...(lookup ? { lookup } : {}) } as buildConnector.BuildOptions);
    return new Pool(origin, {
      // Each client request holds at most one upstream connection, and a stream can hold it for
      // minutes: a cap here would queue streams behind each other, so the clients are the bound.
      connections: this.options.connectionsPerOrigin ?? null,
      pipelining: 1,
      keepAliveTimeout: 30_000,
      headersTimeout: this.options.headersTimeoutMs,
      bodyTimeout: this.options.idleTimeoutMs,
      connect: (opts, callback) => {
        base({ ...opts, hostname: target.host, port: String(target.port), servername: tls && !isIP(host) ? host : undefined } as typeof opts, (err, socket) => {
          if (socket) socket.setNoDelay(true);
          callback(err, socket as never);
        });
      },
    });
  }

  async close(): Promise<void> {
    const pools = [...this.pools.values()];
    this.pools.clear();
    await Promise.all(pools.map((p) => p.close().catch(() => p.destroy())));
  }

  destroy(): void {
    for (const p of this.pools.values()) void p.destroy();
    this.pools.clear();
  }
}
