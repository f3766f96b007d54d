import { existsSync, readFileSync } from 'node:fs';
import { isIP, type Socket } from 'node:net';
import { checkServerIdentity, createSecureContext, rootCertificates, type PeerCertificate, type SecureContext } from 'node:tls';
import type { Client, Pool, buildConnector, Dispatcher } from 'undici';
import { lazyRequire } from '../lazy-require.js';
import { resolveConnectTo, type ConnectTo } from '../config.js';
import { connectViaParent } from './parent-connect.js';
import type { ParentProxy } from './parent-proxy.js';
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
  /** How long a connection dialled by warm() waits for its request (default 10 s). */
  spareTtlMs?: number;
  /** Idle keep-alive per origin (defaults: the first 32 connections 30 s, the rest 4 s). */
  idle?: IdleKeepAlive;
  /** The parent proxy (--upstream-proxy) a connection to host:port goes through; undefined: direct. */
  parent?: (host: string, port: number, tls: boolean) => ParentProxy | undefined;
}

export interface IdleKeepAlive {
  /** Connections per origin that get the long keep-alive: the first this many opened. */
  warm: number;
  warmMs: number;
  /** Keep-alive of every connection beyond those. */
  burstMs: number;
}

/** The HTTP client, loaded when the proxy's pools are made: the CLI's other commands never need it (~80 ms of each one's start). */
const undici = lazyRequire<typeof import('undici')>('undici');
/** Plain-HTTP clients can name any host; keep-alive pools for at most this many origins. */
const MAX_ORIGINS = 256;
/** An eagerly dialled connection (see warm()) that no request has used by then is closed. */
const DEFAULT_SPARE_TTL_MS = 10_000;
/**
 * Idle keep-alive: the first 32 connections of an origin wait 30 s for their
 * next request (agents often pause between calls); connections beyond those exist
 * only because of a burst and close after 4 s idle (undici's default). Without the
 * split, a burst of 1,000 concurrent requests left 1,000 idle TLS connections open
 * for 30 s, or as long as the server's Keep-Alive hint allowed.
 * The pool hands requests to its oldest free connection first, so the warm ones are
 * the ones that stay busy.
 */
const DEFAULT_IDLE: IdleKeepAlive = { warm: 32, warmMs: 30_000, burstMs: 4_000 };

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

type DialCallback = (err: Error | null, socket: Socket | null) => void;

interface Origin {
  pool: Pool;
  /** Opens one connection the way the pool does (--connect-to, guarded DNS, verified TLS). */
  dial(callback: DialCallback): void;
  /** A connection dialled ahead of the request that will use it. */
  spare?: Spare;
}

/**
 * One upstream connection dialled before any request asked for it. The next
 * connection the origin's pool opens takes it (waiting for it if it is still being
 * dialled); unused, it is closed after a while (spareTtlMs).
 */
class Spare {
  private socket: Socket | null = null;
  private settled = false;
  private discarded = false;
  private waiter: DialCallback | undefined;
  private readonly timer: NodeJS.Timeout;

  constructor(dial: (callback: DialCallback) => void, ttlMs: number, private readonly dropped: (spare: Spare) => void) {
    this.timer = setTimeout(() => this.discard(), ttlMs).unref();
    dial((err, socket) => {
      this.settled = true;
      const waiter = this.waiter;
      this.waiter = undefined;
      if (waiter) return waiter(err, socket);
      if (err || !socket || this.discarded) return this.discard(); // nobody waits: the request, if it comes, dials again
      this.socket = socket;
      socket.on('error', ignore); // until a pool owns it; a dead spare is noticed in take()
    });
  }

  /** Hands the connection to `callback` (now, or when dialled); false when it is no use. */
  take(callback: DialCallback): boolean {
    clearTimeout(this.timer);
    if (!this.settled) {
      this.waiter = callback;
      return true;
    }
    const socket = this.socket;
    this.socket = null;
    if (!socket || socket.destroyed) return false;
    socket.off('error', ignore);
    // Never synchronously: undici resumes its queue from inside the connect callback,
    // and a re-entrant resume is ignored (the request would wait forever).
    process.nextTick(callback, null, socket);
    return true;
  }

  discard(): void {
    this.discarded = true;
    clearTimeout(this.timer);
    this.socket?.destroy();
    this.socket = null;
    this.dropped(this);
  }
}

function ignore(): void {}

/**
 * One keep-alive undici Pool per upstream origin. --connect-to changes where the
 * socket goes, never the SNI name or Host header, so certificates are checked
 * against the real provider name.
 */
export class UpstreamPools {
  private readonly origins = new Map<string, Origin>();
  /** Built once: parsing ~300 roots per new connection costs tens of milliseconds of CPU. */
  private readonly trust: SecureContext;

  constructor(private readonly options: UpstreamOptions) {
    this.trust = createSecureContext({ ca: upstreamTrust(options.extraCaFiles) });
    undici(); // loaded with the pools (the proxy's start), so no first request waits for it
  }

  /**
   * `explicit`: an upstream the operator's policy names (route, fallback). Like a
   * --connect-to rule it is an explicit choice of address (a local server on
   * localhost), so the address guard is not applied; it gets its own pool, so a
   * client's request for the same name never shares the unguarded one.
   */
  get(tls: boolean, host: string, port: number, explicit = false): Pool {
    return this.origin(tls, host, port, explicit).pool;
  }

  /**
   * Starts dialling the upstream TLS connection of an intercepted CONNECT while the
   * client's own handshake runs, so a first request does not wait for the two in a
   * row (mitmproxy's "eager" connection strategy). Only when the origin has no idle
   * connection and no spare already.
   */
  warm(host: string, port: number): void {
    const origin = this.origin(true, host, port);
    if (origin.spare || origin.pool.stats.free > 0) return;
    origin.spare = new Spare(origin.dial, this.options.spareTtlMs ?? DEFAULT_SPARE_TTL_MS, (spare) => {
      if (origin.spare === spare) origin.spare = undefined;
    });
  }

  /**
   * One new connection to the origin, dialled exactly as the pool dials its own
   * (--connect-to, guarded DNS, verified TLS, connect timeout; a warm() spare if one
   * waits) but never pooled: a WebSocket upgrade takes the socket for good.
   * `explicit`: an upstream a route or fallback rule names (see get()).
   */
  dial(tls: boolean, host: string, port: number, explicit = false): Promise<Socket> {
    const origin = this.origin(tls, host, port, explicit);
    return new Promise((resolve, reject) => {
      const done: DialCallback = (err, socket) => (err || !socket ? reject(err ?? new Error('no socket')) : resolve(socket));
      const spare = origin.spare;
      origin.spare = undefined;
      if (!spare?.take(done)) origin.dial(done);
    });
  }

  private origin(tls: boolean, host: string, port: number, explicit = false): Origin {
    const key = `${explicit ? 'policy+' : ''}${tls ? 'https' : 'http'}://${formatAuthority(host, port)}`;
    let origin = this.origins.get(key);
    if (origin) {
      // Most recently used last, so eviction below takes the longest-unused origin.
      this.origins.delete(key);
    } else {
      origin = this.create(key, tls, host, port, explicit);
    }
    this.origins.set(key, origin);
    if (this.origins.size > MAX_ORIGINS) {
      const [oldest, stale] = this.origins.entries().next().value as [string, Origin];
      this.origins.delete(oldest);
      stale.spare?.discard();
      // close() lets requests still running on it finish.
      void stale.pool.close().catch(() => stale.pool.destroy());
    }
    return origin;
  }

  private create(key: string, tls: boolean, host: string, port: number, explicit: boolean): Origin {
    const target = resolveConnectTo(this.options.connectTo, host, port);
    // An operator's --connect-to rule is an explicit choice of address: not second-guessed.
    const mapped = explicit || target.host !== host || target.port !== port;
    const lookup = mapped ? undefined : guardedLookup(this.options.targetPolicy, host, port);
    // The certificate is always checked against the origin's name, never the --connect-to
    // address; an IP origin is checked against its IP SAN and never sent as SNI (RFC 6066 3).
    const identity = (_name: string, cert: PeerCertificate): Error | undefined => checkServerIdentity(host, cert);
    const base = undici().buildConnector({ secureContext: this.trust, rejectUnauthorized: true, keepAlive: true, timeout: this.options.connectTimeoutMs, checkServerIdentity: identity, ...(lookup ? { lookup } : {}) } as buildConnector.BuildOptions);
    const options = { protocol: tls ? 'https:' : 'http:', hostname: target.host, port: String(target.port), servername: tls && !isIP(host) ? host : undefined } as buildConnector.Options;
    // The pool's clients, in creation order (the pool drops one only after a connection error).
    const clients = new Set<Dispatcher>();
    const idle = this.options.idle ?? DEFAULT_IDLE;
    const direct = (callback: DialCallback): void => base(options, (err, socket) => {
      if (socket) socket.setNoDelay(true);
      callback(err, socket as Socket | null);
    });
    const parent = this.options.parent?.(host, port, tls);
    const origin: Origin = {
      dial: parent ? this.viaParent(parent, target, tls, options, base) : direct,
      // The map key of a policy-named origin is marked; the pool's own URL is the plain origin.
      pool: new (undici().Pool)(key.replace(/^policy\+/, ''), {
        // Each client request holds at most one upstream connection, and a stream can hold it for
        // minutes: a cap here would queue streams behind each other, so the clients are the bound.
        connections: this.options.connectionsPerOrigin ?? null,
        pipelining: 1,
        headersTimeout: this.options.headersTimeoutMs,
        bodyTimeout: this.options.idleTimeoutMs,
        connect: (_opts, callback) => {
          const done = callback as DialCallback;
          const spare = origin.spare;
          origin.spare = undefined;
          if (!spare?.take(done)) origin.dial(done);
        },
        factory: (url, opts) => {
          const keepAliveMs = clients.size < idle.warm ? idle.warmMs : idle.burstMs;
          // The max also caps a server's Keep-Alive: timeout=N hint, which would otherwise win.
          const client = new (undici().Client)(url, { ...(opts as Client.Options), keepAliveTimeout: keepAliveMs, keepAliveMaxTimeout: keepAliveMs });
          clients.add(client);
          return client;
        },
      }),
    };
    origin.pool.on('connectionError', (_url, targets) => {
      for (const target of targets) clients.delete(target);
    });
    return origin;
  }

  /**
   * Dials through the parent proxy's CONNECT (to the --connect-to address, if any),
   * then runs the same verified TLS handshake over that socket: the certificate is
   * still checked against the real host name, end to end, so the parent sees only
   * ciphertext. The parent's DNS resolves the name, so the guarded lookup does not apply.
   */
  private viaParent(parent: ParentProxy, target: { host: string; port: number }, tls: boolean, options: buildConnector.Options, base: buildConnector.connector): (callback: DialCallback) => void {
    const opts = { timeoutMs: this.options.connectTimeoutMs, trust: this.trust };
    return (callback) => {
      connectViaParent(parent, target.host, target.port, opts).then((socket) => {
        if (!tls) return callback(null, socket);
        base({ ...options, httpSocket: socket }, (err, secured) => callback(err, secured as Socket | null));
      }, (err: Error) => callback(err, null));
    };
  }

  /**
   * How a raw tunnel to host:port opens when a parent proxy carries it: a CONNECT
   * through the parent to `address` (the --connect-to target, else host:port).
   * Undefined: the tunnel dials directly.
   */
  tunnelDial(host: string, port: number, address: { host: string; port: number }): (() => Promise<Socket>) | undefined {
    const parent = this.options.parent?.(host, port, true);
    if (!parent) return undefined;
    return () => connectViaParent(parent, address.host, address.port, { timeoutMs: this.options.connectTimeoutMs, trust: this.trust });
  }

  async close(): Promise<void> {
    const origins = [...this.origins.values()];
    this.origins.clear();
    for (const o of origins) o.spare?.discard();
    await Promise.all(origins.map(({ pool }) => pool.close().catch(() => pool.destroy())));
  }

  destroy(): void {
    for (const o of this.origins.values()) {
      o.spare?.discard();
      void o.pool.destroy();
    }
    this.origins.clear();
  }
}
