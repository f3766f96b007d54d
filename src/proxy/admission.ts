import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { isLoopbackListen, resolveConnectTo, type ProxyConfig } from '../config.js';
import type { ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import type { Redactor } from '../redact/redactor.js';
import type { ProxyAuth } from './auth.js';
import { logRefusedLogin } from './login-log.js';
import type { Login } from './login-recheck.js';
import { isOwnAddress } from './own-addresses.js';
import { formatAuthority } from './route.js';
import { labelFromProxyAuthorization } from './run-label.js';
import { checkTarget, type TargetPolicy, type TargetRefusal } from './target-guard.js';

/** Who a client is once let in: its proxy user (gateway), or the label its `llmtap run` gave it. */
export interface Admitted {
  user?: string;
  label?: string;
  /** On a gateway: the login, for an intercepted connection's later requests (login-recheck.ts). */
  login?: Login;
}

/** What admission reads; getters, since a reload swaps the users, lists and limits. */
export interface AdmissionContext {
  auth(): ProxyAuth;
  targetPolicy(): TargetPolicy;
  config(): Pick<ProxyConfig, 'connectTo' | 'allowPorts'>;
  logger: Logger;
  /** The running redaction (--redact patterns too), for the names the log gives. */
  redactor(): Pick<Redactor, 'text'>;
  /** Answers on the raw socket with an llmtap error (and counts it). */
  refuse(socket: Socket, code: ErrorCode, extraHeaders?: string): void;
}

/** Where the proxy may open connections, for a proxy listening as `config` says on `ownPort`. */
export function targetPolicyFor(config: Pick<ProxyConfig, 'host' | 'allowTargets' | 'intercept' | 'allowPorts'>, ownPort: number): TargetPolicy {
  const gateway = !isLoopbackListen(config.host);
  return {
    gateway,
    // Hosts the operator named for interception are explicitly wanted (e.g. localhost:11434).
    allowHosts: [...config.allowTargets, ...config.intercept],
    allowedPorts: config.allowPorts ?? (gateway ? [443] : undefined),
    ownPort,
    isOwnAddress,
  };
}

/**
 * Without --allow-port, a gateway lets CONNECT reach 443 and plain HTTP reach 80
 * (never, say, port 25 of some host); a local proxy lets either reach any port.
 */
export function plainTargetPolicy(policy: TargetPolicy, allowPorts: readonly number[] | undefined): TargetPolicy {
  return allowPorts ? policy : { ...policy, allowedPorts: policy.gateway ? [80] : undefined };
}

/**
 * Gateway auth and destination checks shared by CONNECT and plain requests (`plain`).
 * Undefined: refused, and the client has its answer.
 */
export async function admit(ctx: AdmissionContext, req: IncomingMessage, socket: Socket, host: string, port: number, plain = false): Promise<Admitted | undefined> {
  const auth = ctx.auth();
  let user: string | undefined;
  let checked: Login | undefined;
  if (auth.enabled) {
    const login = await auth.verify(req.headers['proxy-authorization'], socket.remoteAddress ?? '');
    if ('refused' in login) {
      logRefusedLogin(ctx.logger, ctx.redactor(), login, socket.remoteAddress, 'proxy');
      ctx.refuse(socket, 'proxy_auth_required', 'proxy-authenticate: Basic realm="llmtap"\r\n');
      return undefined;
    }
    user = login.user;
    checked = { header: req.headers['proxy-authorization']!, checkedBy: auth };
  }
  const config = ctx.config();
  const mapped = resolveConnectTo(config.connectTo, host, port);
  const policy = plain ? plainTargetPolicy(ctx.targetPolicy(), config.allowPorts) : ctx.targetPolicy();
  // --connect-to targets are the operator's choice, except a loop into the proxy itself.
  const remapped = mapped.host !== host || mapped.port !== port;
  const refusal = remapped ? loopOnly(checkTarget({ ...policy, allowHosts: [], allowedPorts: undefined }, mapped.host, mapped.port)) : checkTarget(policy, host, port);
  if (refusal) {
    ctx.logger.warn({ target: formatAuthority(host, port), reason: refusal, client: socket.remoteAddress }, 'destination refused');
    ctx.refuse(socket, 'forbidden_target');
    return undefined;
  }
  // Without gateway auth, an `llmtap run --label` credential names the run (run-label.ts).
  return { user, label: ctx.auth().enabled ? undefined : labelFromProxyAuthorization(req.headers['proxy-authorization']), ...(checked ? { login: checked } : {}) };
}

function loopOnly(refusal: TargetRefusal | undefined): TargetRefusal | undefined {
  return refusal === 'proxy_itself' ? refusal : undefined;
}
