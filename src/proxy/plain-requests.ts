import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { ErrorCode } from '../errors.js';
import type { Admitted } from './admission.js';
import { inviteBody } from './expect-continue.js';
import { handleExchange, type ConnectionContext } from './handle-exchange.js';
import { holdWhileAnswered, type OpenLogins } from './open-logins.js';
import type { PerConnectionQueue } from './pipeline.js';
import { decideRoute, recordScope, type InterceptList } from './route.js';
import { handleUpgrade, type UpgradeDeps } from './upgrade.js';

/** What plain-HTTP proxying reads from the running proxy. */
export interface PlainContext {
  draining(): boolean;
  /** Gateway auth and the destination checks for plain HTTP (admission.ts). */
  admit(req: IncomingMessage, socket: Socket, host: string, port: number): Promise<Admitted | undefined>;
  refuse(socket: Socket, code: ErrorCode): void;
  interceptList(): InterceptList;
  exchangeDeps: UpgradeDeps;
  pipelined: PerConnectionQueue;
  /** Answers in flight under a gateway login: a reload that revokes it cuts them. */
  logins: OpenLogins;
  /** The proxy's own pages (a request whose target is a path, not an absolute URI). */
  answerDirect(req: IncomingMessage, res: ServerResponse, url: string): Promise<void>;
}

/** An absolute-URI request target: `http://host[:port]/path?query`. */
export interface PlainTarget {
  /** Lower case, without IPv6 brackets. */
  host: string;
  port: number;
  /** Path and query, as sent upstream. */
  path: string;
  /** host[:port] as the upstream Host names it (lower case, port only when not 80). */
  authority: string;
}

/** Reads an absolute `http:` URI; undefined for anything else (https, garbage). */
export function plainTarget(url: string): PlainTarget | undefined {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return undefined;
  }
  if (target.protocol !== 'http:') return undefined;
  return { host: target.hostname.replace(/^\[|\]$/g, '').toLowerCase(), port: Number(target.port || 80), path: `${target.pathname}${target.search}`, authority: target.host };
}

/** Plain-HTTP proxying (absolute-URI requests): forwarded always, recorded for listed hosts. */
export async function onPlainRequest(req: IncomingMessage, res: ServerResponse, ctx: PlainContext): Promise<void> {
  const url = req.url ?? '';
  if (url.startsWith('/')) {
    // The proxy's own pages decide nothing from the head before reading a body (the web UI's forms).
    inviteBody(req);
    return ctx.answerDirect(req, res, url);
  }
  if (url === '*' && req.method === 'OPTIONS') return answerServerOptions(res);
  const target = plainTarget(url);
  if (!target) return ctx.refuse(req.socket, 'bad_request');
  if (ctx.draining()) {
    res.writeHead(503, { connection: 'close' });
    return void res.end();
  }
  const { host, port } = target;
  const admitted = await ctx.admit(req, req.socket, host, port);
  if (!admitted) return;
  const list = ctx.interceptList();
  const conn: ConnectionContext = {
    connectionId: randomUUID(),
    clientAddress: req.socket.remoteAddress ?? '',
    clientUser: admitted.user,
    clientLabel: admitted.label,
    target: { host, port, tls: false },
    targetAuthority: target.authority,
    record: decideRoute(list, host, port) === 'intercept',
    recordPaths: recordScope(list, host, port),
    // Each plain request is let in by its own login, but its answer may stream for minutes:
    // held under that login while answered, as an intercepted HTTPS request is.
    ...(admitted.login ? { login: admitted.login } : {}),
  };
  ctx.pipelined.run(req.socket, () => holdWhileAnswered(ctx.logins, conn, req.socket, () => handleExchange(req, res, target.path, conn, ctx.exchangeDeps)));
}

/**
 * `OPTIONS *` to the proxy itself (no tunnel, no absolute URI) asks this server what it
 * supports (RFC 9110 §9.3.7): answered as a server would, with the methods it serves —
 * its own pages (GET, HEAD, POST for the web UI), OPTIONS, and CONNECT as a proxy. Nothing
 * about it is secret, so no proxy login is asked for, as for /healthz.
 */
function answerServerOptions(res: ServerResponse): void {
  res.writeHead(200, { allow: 'GET, HEAD, POST, OPTIONS, CONNECT', 'content-length': 0 });
  res.end();
}

/** A plain-HTTP absolute-URI upgrade: relayed like an intercepted one, recorded for listed hosts. */
export async function onPlainUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, ctx: PlainContext): Promise<void> {
  socket.on('error', () => {});
  const target = plainTarget(req.url ?? '');
  if (!target) return ctx.refuse(socket, 'bad_request');
  if (ctx.draining()) return ctx.refuse(socket, 'shutdown');
  const { host, port } = target;
  const admitted = await ctx.admit(req, socket, host, port);
  if (!admitted) return;
  const conn: ConnectionContext = {
    connectionId: randomUUID(), clientAddress: socket.remoteAddress ?? '', clientUser: admitted.user, clientLabel: admitted.label,
    target: { host, port, tls: false }, targetAuthority: target.authority, record: decideRoute(ctx.interceptList(), host, port) === 'intercept',
    // The session outlives its one request: held under its login, a reload that revokes it closes it.
    ...(admitted.login ? { login: admitted.login } : {}),
  };
  void handleUpgrade(req, socket, head, target.path, conn, ctx.exchangeDeps);
}
