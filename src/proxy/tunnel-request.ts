import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { handleExchange, type ConnectionContext } from './handle-exchange.js';
import { refusal, type HeadRefusal } from './request-limits.js';
import { tunnelRequestTarget, type TunnelTarget } from './tunnel-target.js';
import { handleUpgrade, type UpgradeDeps } from './upgrade.js';

/**
 * A request (or WebSocket upgrade) inside an intercepted tunnel: its target read
 * (tunnel-target.ts), then the exchange with the path it goes upstream with, or, naming
 * another origin than the tunnel's, its refusal (answered and recorded by the exchange).
 */
export function handleTunnelRequest(req: IncomingMessage, res: ServerResponse, conn: ConnectionContext, deps: UpgradeDeps): Promise<void> {
  const { path, conn: forTarget, refused } = readTarget(req, conn);
  return handleExchange(req, res, path, forTarget, deps, refused);
}

export function handleTunnelUpgrade(req: IncomingMessage, socket: Socket, head: Buffer, conn: ConnectionContext, deps: UpgradeDeps): Promise<void> {
  const { path, conn: forTarget, refused } = readTarget(req, conn);
  return handleUpgrade(req, socket, head, path, forTarget, deps, refused);
}

function readTarget(req: IncomingMessage, conn: ConnectionContext): { path: string; conn: ConnectionContext; refused?: HeadRefusal } {
  const url = req.url ?? '/';
  const target: TunnelTarget = tunnelRequestTarget(req.method ?? 'GET', url, req.headers.host, conn.target);
  // Refused: recorded with the target as sent.
  if ('refused' in target) return { path: url, conn, refused: refusal(target.refused, target.refused, target.why) };
  // Absolute-form: upstream with the Host its URI names (headers.ts withTargetHost), as on the plain-HTTP side.
  return { path: target.path, conn: target.authority === undefined ? conn : { ...conn, targetAuthority: target.authority } };
}
