/**
 * An HTTP/1.1 Upgrade request (WebSocket) on an intercepted host, or a plain-HTTP
 * absolute-URI one. The request goes upstream with its headers as sent (Connection
 * and Upgrade included: they are the point), over a connection dialled like any
 * other upstream one (UpstreamPools.dial). A 101 is written back to the client with
 * its headers as received and the two sockets are handed to a WsSession; any other
 * answer is passed through as is and recorded as a normal exchange.
 *
 * Why Node's http.request on the dialled socket rather than undici's upgrade():
 * undici writes its own `connection`/`upgrade` headers (and refuses the client's),
 * hands back parsed 101 headers, and turns a non-101 answer into a "bad upgrade"
 * error, where llmtap must pass the client's headers and the server's answer through.
 */
import { stopErrorOf } from '../failed-exchange.js';
import { request as httpRequest, type IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import { formatAuthority } from './route.js';
import { classifyUpstreamError, LlmtapError, providerErrorBody, upstreamFailureDetail, type ErrorCode } from '../errors.js';
import { headerValue, now, type Exchange, type RawHeaders } from '../exchange.js';
import { newId } from '../ids.js';
import { applyPolicy, type PolicyStageResult } from '../policy/stage.js';
import type { MatchFacts } from '../policy/types.js';
import { identifyApi, identifyProvider, queryModel } from '../providers/registry.js';
import { parseDeflateParams } from '../websocket/deflate.js';
import { WsSession } from '../websocket/session.js';
import { isGeminiLivePath } from '../websocket/gemini-live.js';
import { screensApi, screensMessages } from './ws-screen.js';
import { chargedSession, screenedSession } from './ws-policy.js';
import { isValidWebSocketKey } from '../websocket/frame-writer.js';
import { BodyCapture } from './capture.js';
import { closeAfterAnswer } from './refusals.js';
import { dialPlanned, noteUpgradeStatus } from './upgrade-routing.js';
import { headRefusal, type HeadRefusal } from './request-limits.js';
import { isSafeHeaderName, isSafeHeaderValue, withTargetHost } from './headers.js';
import { describeClient, type ConnectionContext, type ExchangeDeps } from './handle-exchange.js';
import { readQuota } from '../providers/quota-headers.js';
import type { OpenLogins } from './open-logins.js';

/** A WebSocket session the proxy holds open: relayed (WsSession) or replayed by `llmtap mock` (WsReplay). */
export interface OpenSession {
  close(): void;
  done: Promise<void>;
}

export interface UpgradeDeps extends ExchangeDeps {
  /** Open sessions (relayed, or replayed by `llmtap mock`), so the proxy's drain can close them at its deadline. */
  sessions: Set<OpenSession>;
  /** Sessions open under a gateway login: a reload that revokes it closes them (open-logins.ts). */
  logins?: OpenLogins;
}

/** Hop-by-hop headers that never go upstream; Connection and Upgrade do, for an upgrade. */
const DROPPED = new Set(['keep-alive', 'proxy-connection', 'proxy-authorization', 'proxy-authenticate', 'te', 'trailer', 'transfer-encoding']);

export function upgradeRequestHeaders(raw: RawHeaders): RawHeaders {
  const out: RawHeaders = [];
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!DROPPED.has(raw[i]!.toLowerCase())) out.push(raw[i]!, raw[i + 1]!);
  }
  return out;
}

/** Which API a WebSocket path speaks: Realtime and Gemini Live by their paths, the rest as their HTTP form. */
export function identifyWsApi(path: string, provider: Exchange['provider']): Exchange['api'] {
  const bare = path.split(/[?#]/)[0]!.replace(/\/+$/, '');
  if (bare.endsWith('/realtime')) return 'realtime';
  if (isGeminiLivePath(bare)) return 'gemini.live';
  return identifyApi(path, provider);
}

/** The head of an answer as the upstream sent it (status text and header case and order kept). */
export function responseHead(version: string, status: number, statusText: string, raw: RawHeaders): string {
  let head = `HTTP/${version} ${status} ${statusText}\r\n`;
  for (let i = 0; i + 1 < raw.length; i += 2) head += `${raw[i]}: ${raw[i + 1]}\r\n`;
  return `${head}\r\n`;
}

export async function handleUpgrade(req: IncomingMessage, client: Socket, head: Buffer, path: string, conn: ConnectionContext, deps: UpgradeDeps, targetRefusal?: HeadRefusal): Promise<void> {
  client.on('error', () => {}); // resets are seen through 'close'
  const provider = identifyProvider(conn.target.host, conn.target.port);
  const ex: Exchange = {
    id: newId(),
    connectionId: conn.connectionId,
    client: { address: conn.clientAddress, user: conn.clientUser, userAgent: req.headers['user-agent'] },
    target: { ...conn.target },
    provider,
    api: identifyWsApi(path, provider),
    request: { method: req.method ?? 'GET', path, headers: conn.targetAuthority ? withTargetHost(req.rawHeaders, conn.targetAuthority) : req.rawHeaders, body: { bytes: Buffer.alloc(0), size: 0, truncated: false } },
    timings: { start: now(), requestEnd: now() },
  };
  deps.metrics.exchangesStarted++;
  /**
   * What the policy's rules matched the upgrade on: each response is charged, and a spent
   * budget looked up, with them (live rules). Absent when no policy was in force at the
   * upgrade: read when a policy that came since charges a response (ws-policy.ts).
   */
  let facts: MatchFacts | undefined;
  const record = (): void => {
    deps.metrics.exchangesFinished++;
    if (conn.record) {
      describeClient(ex);
      if (ex.response) ex.quota = readQuota(ex.response.headers);
      deps.recorder.recordExchange(ex);
    }
    // A session whose last response the provider failed counts as failed (failed-exchange.ts): logged so, as an HTTP exchange is.
    const stopError = stopErrorOf(ex.response?.status, ex.response?.reassembled?.stopReason);
    deps.logger[stopError ? 'warn' : 'info']({
      method: ex.request.method, host: deps.redactor.text(ex.target.host), path: deps.redactor.logPath(ex.request.path), status: ex.response?.status, messages: ex.websocket?.count,
      ms: Math.round((ex.timings.end ?? ex.timings.start) - ex.timings.start), outcome: ex.outcome, error: stopError === null ? undefined : deps.redactor.text(stopError), ...(conn.record ? {} : { recorded: false }),
    }, 'websocket');
  };
  const fail = (code: ErrorCode, cause?: unknown, headers: Record<string, string> = {}, authority = formatAuthority(conn.target.host, conn.target.port)): void => {
    ex.outcome = code.startsWith('upstream_') ? 'upstream_error' : BLOCK_CODES.has(code) || ex.policy?.blocked === code ? 'blocked' : 'proxy_error';
    ex.errorCode = code;
    deps.metrics.count(code);
    deps.logger.warn({ exchange: ex.id, host: deps.redactor.text(ex.target.host), code, cause: (cause as { code?: string } | undefined)?.code }, 'upgrade failed');
    const detail = code.startsWith('upstream_') ? upstreamFailureDetail(code, cause, authority) : undefined;
    answerError(client, ex, code, headers, detail);
    ex.timings.end = now();
    record();
  };

  // Only WebSocket upgrades are relayed: a GET without a body. Anything else that asks
  // to upgrade (a body, another protocol) has left Node's HTTP parser with its body and any
  // pipelined requests unparsed in `head`, so it cannot be forwarded faithfully: refuse it.
  const refusal = headRefusal(req) ?? targetRefusal;
  if (refusal) return fail(refusal.code, refusal.cause);
  if (!isWebSocketUpgrade(req)) return fail('bad_request');
  let routing: PolicyStageResult['routing'];
  /** What the upgrade's rules matched on, when the session's requests are screened too (ws-screen.ts). */
  let screenFacts: MatchFacts | undefined;
  if (deps.policy) {
    // The upgrade is decided like a request (access, rate limits, budgets; the model from
    // `?model=` for Realtime; route, fallback on connect errors, credentials: see
    // upgrade-routing.ts). Messages inside the session are not redacted; each response's
    // tokens and cost are charged as it ends.
    ex.request.model ??= queryModel(path);
    // Codex names its model in each response.create, Gemini Live in its setup, not here: the
    // access and rate-limit rules judge each of those as a request (ws-screen.ts); the
    // budgets are checked here too.
    const screened = screensMessages(deps.policy.policy, ex.api);
    const applied = applyPolicy(deps.policy, ex, [], undefined, screened);
    if (applied.error) return fail(applied.error.code, undefined, applied.error.headers);
    routing = applied.routing;
    if (screened) screenFacts = applied.facts;
    else facts = applied.facts;
    // Who sent it, before any response is priced: subscription traffic is priced as such.
    describeClient(ex);
  }
  if (deps.failClosed && conn.record && !deps.recorder.healthy) return fail('archive_unavailable');
  // `llmtap mock`: an intercepted upgrade is answered from a recorded session, never sent upstream.
  if (deps.mock && conn.record) {
    if (!isValidWebSocketKey(req.headers['sec-websocket-key'])) return fail('bad_request');
    const replay = deps.mock.upgrade(ex, client, deps.redactor, {
      captureLimit: deps.captureLimit,
      recordMessages: (id, messages) => deps.recorder.recordWsMessages(id, messages),
      finished: () => {
        deps.sessions.delete(replay!);
        release?.();
        record();
      },
    });
    if (!replay) return fail('no_recording');
    deps.sessions.add(replay);
    const release = holdSession(conn, deps, () => replay.close());
    return replay.start(head);
  }
  let upstream: Socket;
  let upPath = path;
  let upHeaders = upgradeRequestHeaders(ex.request.headers);
  if (routing && deps.policy) {
    const dialed = await dialPlanned({ pools: deps.pools, policy: deps.policy.policy, facts: routing.facts, plan: routing.plan, logger: deps.logger, redactor: deps.redactor }, ex, path, upHeaders);
    if (!dialed.ok) return fail(dialed.code, dialed.error, {}, formatAuthority(dialed.hop.origin.host, dialed.hop.origin.port));
    ({ socket: upstream, path: upPath, headers: upHeaders } = dialed);
  } else {
    try {
      upstream = await deps.pools.dial(conn.target.tls, conn.target.host, conn.target.port);
    } catch (err) {
      return fail(classifyUpstreamError(err), err);
    }
  }
  if (client.destroyed) {
    upstream.destroy();
    ex.outcome = 'client_aborted';
    ex.timings.end = now();
    return record();
  }

  const upReq = httpRequest({ method: ex.request.method, path: upPath, headers: upHeaders, setHost: false, createConnection: () => upstream });
  const timer = setTimeout(() => upReq.destroy(new LlmtapError('upstream_timeout')), deps.upstreamHeadersTimeoutMs);
  const onClientGone = (): void => {
    upReq.destroy();
    upstream.destroy();
  };
  client.once('close', onClientGone);
  // A client that half-closes before the answer will never speak WebSocket on this connection.
  client.once('end', onClientGone);
  let answered = false;
  upReq.on('error', (err) => {
    clearTimeout(timer);
    client.off('close', onClientGone);
    client.off('end', onClientGone);
    if (answered) return;
    answered = true;
    if (client.destroyed) {
      ex.outcome = 'client_aborted';
      ex.timings.end = now();
      return record();
    }
    fail(classifyUpstreamError(err), err);
  });

  upReq.on('upgrade', (res: IncomingMessage, socket: Socket, upHead: Buffer) => {
    clearTimeout(timer);
    client.off('close', onClientGone);
    client.off('end', onClientGone);
    answered = true;
    noteUpgradeStatus(ex, res.statusCode ?? 101);
    ex.timings.upstreamHeaders = now();
    ex.response = { status: res.statusCode ?? 101, headers: res.rawHeaders, body: { bytes: Buffer.alloc(0), size: 0, truncated: false } };
    client.write(responseHead(res.httpVersion, res.statusCode ?? 101, res.statusMessage ?? '', res.rawHeaders));
    const session: WsSession = new WsSession(ex, client, socket, parseDeflateParams(headerValue(res.rawHeaders, 'sec-websocket-extensions')), {
      captureLimit: deps.captureLimit,
      recordMessages: (id, messages) => {
        if (conn.record) deps.recorder.recordWsMessages(id, messages);
      },
      finished: () => {
        deps.sessions.delete(session);
        release?.();
        record();
      },
      // Charged (once a policy is in force) even when none was at the upgrade; a Codex or Live
      // session opened so is screened once one is (its gate dormant until then: ws-policy.ts).
      ...(screensApi(ex.api) ? screenedSession(ex, screenFacts, deps, (): WsSession => session) : { onResponse: chargedSession(ex, facts, deps, (): WsSession => session) }),
    });
    deps.sessions.add(session);
    // The client gets a close frame (1008, proxy_auth_required) when between messages; recorded as blocked so.
    const release = holdSession(conn, deps, () => void (session.cut('proxy_auth_required') || session.close()));
    session.start(head, upHead);
  });

  upReq.on('response', (res: IncomingMessage) => {
    clearTimeout(timer);
    client.off('close', onClientGone);
    client.off('end', onClientGone);
    answered = true;
    noteUpgradeStatus(ex, res.statusCode ?? 0);
    passThrough(res, client, upstream, ex, deps.captureLimit).then(record, record);
  });
  upReq.end();
}

/** On a gateway: the session is held under its login until it ends (open-logins.ts); returns what lets it go. */
function holdSession(conn: ConnectionContext, deps: UpgradeDeps, close: () => void): (() => void) | undefined {
  if (!conn.login || !deps.logins) return undefined;
  return deps.logins.hold({ kind: 'websocket', clientUser: conn.clientUser, clientAddress: conn.clientAddress, host: formatAuthority(conn.target.host, conn.target.port), login: conn.login, close });
}

/** GET, `Upgrade: websocket`, and no request body (RFC 6455 §4.1). */
export function isWebSocketUpgrade(req: IncomingMessage): boolean {
  if (req.method !== 'GET' || !/^websocket$/i.test((req.headers.upgrade ?? '').trim())) return false;
  if (req.headers['transfer-encoding'] !== undefined) return false;
  const length = req.headers['content-length'];
  return length === undefined || /^0+$/.test(length.trim());
}

/**
 * A non-101 answer to an upgrade: head and body go to the client as they came (a
 * chunked body is chunked again, since Node hands it over de-chunked), then both
 * connections close: Node's server has let go of the client socket.
 */
function passThrough(res: IncomingMessage, client: Socket, upstream: Socket, ex: Exchange, captureLimit: number): Promise<void> {
  ex.timings.upstreamHeaders = now();
  const capture = new BodyCapture(captureLimit);
  ex.response = { status: res.statusCode ?? 0, headers: res.rawHeaders, body: capture.result() };
  const chunked = /chunked/i.test(headerValue(res.rawHeaders, 'transfer-encoding') ?? '');
  client.write(responseHead(res.httpVersion, res.statusCode ?? 0, res.statusMessage ?? '', res.rawHeaders));
  return new Promise((resolve) => {
    const done = (outcome: Exchange['outcome']): void => {
      if (ex.outcome) return;
      ex.outcome = outcome;
      ex.response!.body = capture.result();
      ex.timings.end = now();
      upstream.destroy();
      resolve();
    };
    res.on('data', (chunk: Buffer) => {
      ex.timings.firstByte ??= now();
      const more = client.write(chunked ? Buffer.concat([Buffer.from(`${chunk.length.toString(16)}\r\n`), chunk, CRLF]) : chunk);
      capture.push(chunk);
      if (!more) {
        res.pause();
        client.once('drain', () => res.resume());
      }
    });
    res.on('end', () => {
      if (chunked) client.end(LAST_CHUNK);
      else client.end();
      // Node's server let go of this socket: without this, bytes the client pipelined
      // after the upgrade request stay unread and its FIN is never seen.
      closeAfterAnswer(client);
      done('completed');
    });
    res.on('error', () => {
      client.destroy();
      done('upstream_error');
    });
    client.once('close', () => done('client_aborted'));
  });
}

const CRLF = Buffer.from('\r\n');
const LAST_CHUNK = Buffer.from('0\r\n\r\n');

const BLOCK_CODES = new Set<ErrorCode>(['forbidden_target', 'model_not_allowed', 'rate_limited', 'content_blocked']);

function answerError(client: Socket, ex: Exchange, code: ErrorCode, extra: Record<string, string> = {}, detail?: string): void {
  const err = new LlmtapError(code, { detail });
  const body = providerErrorBody(ex.provider, code, err.message);
  const headers = ['content-type', 'application/json', 'content-length', String(Buffer.byteLength(body)), 'x-llmtap-error', code, 'connection', 'close'];
  // Only headers llmtap made itself (Retry-After): checked anyway, never a line onto the wire.
  for (const [name, value] of Object.entries(extra)) if (isSafeHeaderName(name) && isSafeHeaderValue(value)) headers.push(name, value);
  ex.response = { status: err.status, headers, body: { bytes: Buffer.from(body), size: Buffer.byteLength(body), truncated: false } };
  if (client.destroyed) return;
  client.end(responseHead('1.1', err.status, 'Error', headers) + body);
  closeAfterAnswer(client);
}
