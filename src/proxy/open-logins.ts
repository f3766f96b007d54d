import type { Socket } from 'node:net';
import type { ConnectionContext } from './handle-exchange.js';
import type { Login, LoginRecheck } from './login-recheck.js';
import { loginStillHolds } from './login-recheck.js';
import { formatAuthority } from './route.js';

/**
 * A connection a gateway login opened that carries no further request to check: a raw
 * tunnel, a WebSocket session, an intercepted connection while a request on it is answered.
 * Requests on an intercepted connection are checked again after a reload (login-recheck.ts);
 * these would otherwise run on under a removed user for as long as their client keeps them
 * (or, for an answer, as long as the model writes).
 */
export interface HeldConnection {
  kind: 'tunnel' | 'websocket' | 'http';
  clientUser: string | undefined;
  clientAddress: string;
  /** host:port, for the log line. */
  host: string;
  login: Login;
  /** Ends it now (both sockets). */
  close(): void;
}

export interface OpenLoginsContext extends LoginRecheck {
  /** Counts a closed connection as a refusal (proxy_auth_required). */
  count(code: 'proxy_auth_required'): void;
}

/** A check the hash queue could not run (a login flood) is tried again this much later. */
const BUSY_RETRY_MS = 1000;

/**
 * The tunnels, WebSocket sessions and answers in flight under a gateway login. Nothing
 * runs per byte: a connection is added when it opens (an answer when its request is let
 * through) and removed when it ends, and a reload that changed users checks those of the
 * changed users once.
 */
export class OpenLogins {
  private readonly held = new Set<HeldConnection>();

  constructor(private readonly ctx: OpenLoginsContext) {}

  get size(): number {
    return this.held.size;
  }

  /**
   * Adds a connection; returns what removes it (call when it ends). One let in just
   * before a reload whose sweep it missed (its login checked by the users before) is
   * checked now.
   */
  hold(connection: HeldConnection): () => void {
    this.held.add(connection);
    if (connection.login.checkedBy !== this.ctx.auth()) void this.check(connection);
    return () => void this.held.delete(connection);
  }

  /**
   * After a reload: the connections of users it took away or gave another credential
   * (auth.ts changedUsers) are checked against the new users, as login-recheck.ts checks
   * a request (one scrypt per login, none for users left as they were); those whose login
   * no longer holds are closed at once, one log line each.
   */
  afterReload(changed: ReadonlySet<string>): Promise<void> {
    if (changed.size === 0 || this.held.size === 0) return Promise.resolve();
    const affected = [...this.held].filter((c) => c.clientUser !== undefined && changed.has(c.clientUser));
    return Promise.all(affected.map((c) => this.check(c))).then(() => undefined);
  }

  private async check(connection: HeldConnection): Promise<void> {
    const holds = await loginStillHolds(connection, this.ctx);
    if (!this.held.has(connection)) return; // ended meanwhile
    if (!holds) return this.close(connection);
    const auth = this.ctx.auth();
    // Let through unchecked (the queue was full): nothing else will ask again on a tunnel, so try later.
    if (auth.enabled && connection.login.checkedBy !== auth) setTimeout(() => void this.check(connection), BUSY_RETRY_MS).unref();
  }

  private close(connection: HeldConnection): void {
    this.held.delete(connection);
    const redactor = this.ctx.redactor();
    this.ctx.logger.warn({
      user: connection.clientUser === undefined ? undefined : redactor.text(connection.clientUser), host: redactor.text(connection.host),
      kind: connection.kind, client: connection.clientAddress,
    }, 'connection closed: its login no longer holds');
    this.ctx.count('proxy_auth_required');
    connection.close();
  }
}

/**
 * A request on an intercepted connection, held under its login while it is answered: a
 * reload that revokes the login cuts the connection then, as it closes a tunnel (a long
 * stream ran on to its end under the removed user). The connection is marked so that the
 * exchange is recorded as cut by it, with what had arrived. Off a gateway: just `answer`.
 */
export function holdWhileAnswered(logins: OpenLogins, conn: ConnectionContext, socket: Socket, answer: () => Promise<void>): Promise<void> {
  if (!conn.login) return answer();
  const release = logins.hold({
    kind: 'http', clientUser: conn.clientUser, clientAddress: conn.clientAddress, host: formatAuthority(conn.target.host, conn.target.port), login: conn.login,
    close: () => {
      conn.revoked = true;
      socket.destroy();
    },
  });
  return answer().finally(release);
}
