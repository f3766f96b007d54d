import type { ServerResponse } from 'node:http';
import { ERROR_CODES, providerErrorBody, providerErrorHeaders } from '../errors.js';
import type { Logger } from '../log.js';
import { identifyProvider } from '../providers/registry.js';
import type { Redactor } from '../redact/redactor.js';
import type { ProxyAuth } from './auth.js';
import type { ConnectionContext } from './handle-exchange.js';
import { logRefusedLogin } from './login-log.js';

/**
 * The login a CONNECT was let in with. An intercepted connection carries many requests
 * after its one CONNECT, and an SDK or agent keeps it open for as long as it is busy, so
 * a user removed from the users file (or whose password changed) on a reload kept
 * working through it. The header is kept in memory with the connection (never logged
 * or stored) so that its requests can be checked against the users a reload brings.
 */
export interface Login {
  header: string;
  /** The users it was last checked against: a reload makes a new ProxyAuth. */
  checkedBy: ProxyAuth;
}

export interface LoginRecheck {
  auth(): ProxyAuth;
  logger: Logger;
  redactor(): Pick<Redactor, 'text'>;
}

/**
 * Runs `next` for a request on an intercepted connection when its login holds, else
 * `refuse`. Without a reload since the login was checked (and always off a gateway) `next`
 * runs at once, with nothing awaited: the check costs a request nothing then.
 */
export function whenLoginHolds(conn: ConnectionContext, ctx: LoginRecheck, next: () => Promise<void>, refuse: () => void): Promise<void> {
  const login = conn.login;
  if (!login || login.checkedBy === ctx.auth()) return next();
  return loginStillHolds(conn, ctx).then((holds) => (holds ? next() : refuse()));
}

/**
 * Whether a request on an intercepted connection may go on. Since the last reload, one
 * check per connection (a credential verified once is remembered by ProxyAuth, so this
 * costs one scrypt per login, not per request); otherwise none. A check the queue could
 * not run (a login flood) lets the request go and is tried again on the next one.
 */
export async function loginStillHolds(conn: Pick<ConnectionContext, 'login' | 'clientUser' | 'clientAddress'>, ctx: LoginRecheck): Promise<boolean> {
  const login = conn.login;
  const auth = ctx.auth();
  if (!login || login.checkedBy === auth) return true;
  if (!auth.enabled) return true; // the reload took the users away: nobody logs in any more
  const result = await auth.verify(login.header, conn.clientAddress);
  if (!('refused' in result) && result.user === conn.clientUser) {
    login.checkedBy = auth;
    return true;
  }
  if ('refused' in result && result.refused === 'busy') return true;
  if ('refused' in result) logRefusedLogin(ctx.logger, ctx.redactor(), result, conn.clientAddress, 'connection');
  return false;
}

/** The answer to a request whose connection's login no longer holds: 407 in the provider's shape, and the connection closed. */
export function refuseStaleLogin(res: ServerResponse, conn: ConnectionContext): void {
  const provider = identifyProvider(conn.target.host, conn.target.port);
  const code = 'proxy_auth_required';
  const body = providerErrorBody(provider, code, `${ERROR_CODES[code].message}: this connection's login is no longer valid`);
  res.shouldKeepAlive = false;
  res.writeHead(ERROR_CODES[code].status, {
    'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-llmtap-error': code,
    'proxy-authenticate': 'Basic realm="llmtap"', connection: 'close', ...providerErrorHeaders(provider, code),
  });
  res.end(body);
}
