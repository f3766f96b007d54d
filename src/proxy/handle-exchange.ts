import type { IncomingMessage, ServerResponse } from 'node:http';
import { Readable } from 'node:stream';
import { decodeBody } from '../content-encoding.js';
import { LlmtapError, upstreamFailureDetail, providerErrorBody, providerErrorHeaders, type ErrorCode } from '../errors.js';
import { headerValue, now, type Exchange, type Outcome, type RawHeaders } from '../exchange.js';
import { newId } from '../ids.js';
import { settleFailure, stopErrorOf } from '../failed-exchange.js';
import type { Logger } from '../log.js';
import { readAgentMetadata } from '../providers/agent-metadata.js';
import { asObject, parseJsonBody } from '../providers/json.js';
import { multipartBoundary } from '../providers/multipart-fields.js';
import { readQuota } from '../providers/quota-headers.js';
import { identifyTool } from '../providers/tool-identity.js';
import { isSubscriptionTraffic } from '../cost/subscription.js';
import { factsFromPath, identifyRequest, parserFor, pathRecorded } from '../providers/registry.js';
import { completeFromTail } from '../providers/answer-tail.js';
import type { RateLimiter } from '../policy/rate-limit.js';
import { applyPolicy, chargeUsage, declaredSizeRefusal, type PolicyRuntime, type PolicyStageResult } from '../policy/stage.js';
import { CACHE_HEADER, lookupCache, serveHit, storeAnswer, type CacheTicket } from '../cache/cache-stage.js';
import type { Redactor } from '../redact/redactor.js';
import type { Recorder } from '../recorder/recorder.js';
import { BodyCapture, captureWhole } from './capture.js';
import { readBody, requestBody } from './request-body.js';
import { headRefusal, type HeadRefusal } from './request-limits.js';
import { bodyLeftUnread } from './expect-continue.js';
import { isSafeHeaderName, isSafeHeaderValue, stripHopByHop, withTargetHost } from './headers.js';
import type { Metrics } from './metrics.js';
import { credentialsOnlyHop, forwardPlanned, withHopCredential } from './fallback.js';
import { relay } from './relay.js';
import { asteriskUpstream } from './asterisk-upstream.js';
import { formatAuthority } from './route.js';
import type { UpstreamPools } from './upstream.js';
import type { MockUpstream } from '../mock/mock-upstream.js';
import { usageOutputTokens, usagePromptTokens } from '../providers/usage-totals.js';
import type { Login } from './login-recheck.js';

/** Who is talking to whom on one client connection (set when the connection is accepted). */
export interface ConnectionContext {
  connectionId: string;
  clientAddress: string;
  clientUser?: string;
  /** The `llmtap run --label` of the client's run, from its proxy credential. */
  clientLabel?: string;
  target: { host: string; port: number; tls: boolean; sni?: string };
  /** An absolute-form (plain-HTTP) request's target, host[:port]: the Host it goes upstream with (headers.ts withTargetHost). */
  targetAuthority?: string;
  /** False for plain-HTTP requests to hosts off the intercept list: forwarded, not stored. */
  record: boolean;
  /** When set, only requests whose path starts with one of these are stored (see ProviderHost.paths). */
  recordPaths?: readonly string[];
  /** A gateway login the connection's requests are checked against again after a reload (login-recheck.ts). */
  login?: Login;
  /** Set when a reload revoked that login while a request was answered: the connection was cut (open-logins.ts). */
  revoked?: boolean;
}

export interface ExchangeDeps {
  pools: UpstreamPools;
  recorder: Recorder;
  logger: Logger;
  metrics: Metrics;
  maxRequestBody: number;
  captureLimit: number;
  failClosed: boolean;
  /** Per client and provider host; replaced on config reload. */
  rateLimiter?: RateLimiter;
  /** The policy file's rules (--policy); undefined when none is configured, and then the stage costs nothing. Replaced on reload. */
  policy?: PolicyRuntime;
  /** Built-in rules plus --redact patterns, for everything logged; replaced on config reload. */
  redactor: Redactor;
  /** How long an upstream may take to its answer's head (--upstream-headers-timeout), where undici's pool does not keep it. */
  upstreamHeadersTimeoutMs: number;
  /** A request body that sends nothing for this long is cut with 408 (the --headers-timeout). */
  bodyProgressTimeoutMs: number;
  /** `llmtap mock`: intercepted requests are answered from recordings and never forwarded. */
  mock?: MockUpstream;
  /** True once the drain deadline passed and the connections still open are being cut. */
  cutAtShutdown?: () => boolean;
}

/**
 * One request through the ordered stages: identify → read body → parse → forward
 * (streaming) → reduce → record. Each exchange ends in exactly one outcome and is
 * handed to the recorder once.
 */
export async function handleExchange(req: IncomingMessage, res: ServerResponse, path: string, connection: ConnectionContext, deps: ExchangeDeps, targetRefusal?: HeadRefusal): Promise<void> {
  res.sendDate = false; // the provider's Date header passes through; never add our own
  // Recording is decided per request: on a path-scoped host only the LLM paths are kept.
  const conn = connection.record && !pathRecorded(connection.recordPaths, path) ? { ...connection, record: false } : connection;
  const { provider, api } = identifyRequest(conn.target.host, conn.target.port, path);
  const ex: Exchange = {
    id: newId(),
    connectionId: conn.connectionId,
    client: { address: conn.clientAddress, user: conn.clientUser, label: conn.clientLabel, userAgent: req.headers['user-agent'] },
    target: { ...conn.target },
    provider,
    api,
    request: { method: req.method ?? 'GET', path, headers: conn.targetAuthority ? withTargetHost(req.rawHeaders, conn.targetAuthority) : req.rawHeaders, body: { bytes: Buffer.alloc(0), size: 0, truncated: false } },
    timings: { start: now() },
  };
  deps.metrics.exchangesStarted++;
  if (req.socket.destroyed) {
    // A pipelined request whose client left before its turn: a real request the tool
    // made, recorded as such, never sent upstream.
    req.resume();
    ex.outcome = 'client_aborted';
    ex.timings.end = now();
    return finish(ex, conn, deps);
  }
  let charges: PolicyStageResult['charges'] = [];
  let cacheTicket: CacheTicket | undefined;
  let budgetCharges: PolicyStageResult['budgetCharges'];
  const policyRuntime = deps.policy;
  let routing: PolicyStageResult['routing'];
  let missHeader = false;
  // The provider's answer began (2xx headers and some body reached the client) and then the
  // upstream connection broke, or llmtap's shutdown cut it: what arrived is still read.
  let cutMidAnswer = false;
  // The answer body's last bytes when it ran past the capture limit (where its usage is); kept
  // off the exchange, whose fields go to the recorder.
  let answerTail: Buffer | undefined;
  try {
    if (deps.rateLimiter && conn.record) {
      const decision = deps.rateLimiter.take(`${conn.clientUser ?? conn.clientAddress} ${conn.target.host}`);
      if (!decision.ok) {
        req.resume(); // the body is not needed; let the connection carry on
        throw new LlmtapError('rate_limited', { headers: { 'retry-after': String(decision.retryAfterSeconds) } });
      }
    }
    const refusal = headRefusal(req) ?? targetRefusal;
    if (refusal) throw new LlmtapError(refusal.code, { cause: refusal.cause });
    // A declared size a policy limit refuses whatever the body says: refused before it is uploaded.
    const declared = Number(req.headers['content-length'] ?? 0);
    const sizeRefusal = policyRuntime && declared > 0 ? declaredSizeRefusal(policyRuntime, ex, declared) : undefined;
    if (sizeRefusal) throw sizeRefusal;
    const body = await readBody(req, deps.maxRequestBody, deps.bodyProgressTimeoutMs);
    ex.timings.requestEnd = now();
    ex.request.body = captureWhole(body, deps.captureLimit);
    const parser = ex.api ? parserFor(ex.api) : undefined;
    let decoded: Buffer | undefined;
    // Decoded for the parser, and for the policy on an endpoint no parser knows (its redaction reads any JSON).
    if ((parser || policyRuntime) && body.length > 0) {
      decoded = decodeBody(body, headerValue(req.rawHeaders, 'content-encoding'));
      if (decoded && parser) {
        const contentType = headerValue(req.rawHeaders, 'content-type');
        Object.assign(ex.request, parser.parseRequest(decoded, contentType));
        // An upload (an image edit, a transcription) is no JSON: trying to parse its megabytes would hold the event loop.
        ex.agent = readAgentMetadata(req.rawHeaders, multipartBoundary(contentType) === undefined ? asObject(parseJsonBody(decoded)) : undefined);
      }
    }
    // Azure's deployment, Gemini's and Vertex's model: in the path when the body names none.
    if (parser) {
      const fromPath = factsFromPath(path);
      ex.request.model ??= fromPath.model;
      ex.request.stream ??= fromPath.stream;
    }
    let forwardHeaders = upstreamHeaders(ex.request.headers);
    let forwardBody = requestBody(req, body);
    if (policyRuntime) {
      // Policy: after the body is read and parsed (model, tool, session known), before anything goes upstream.
      const applied = applyPolicy(policyRuntime, ex, forwardHeaders, decoded);
      charges = applied.charges;
      budgetCharges = applied.budgetCharges;
      routing = applied.routing;
      if (applied.body) {
        // What went upstream is what is recorded: placeholders, never the secret.
        forwardBody = applied.body;
        forwardHeaders = applied.headers!;
        ex.request.headers = applied.headers!;
        ex.request.body = captureWhole(applied.body, deps.captureLimit);
      }
      if (applied.error) throw applied.error;
      // Cache: after every rule that may refuse or change the request; keyed on what would go upstream.
      if (policyRuntime.caches) cacheTicket = lookupCache(policyRuntime.policy, policyRuntime.caches, ex, applied.body ?? decoded, applied.facts);
    }
    if (deps.failClosed && conn.record && !deps.recorder.healthy) throw new LlmtapError('archive_unavailable');
    if (cacheTicket?.hit) {
      serveHit(res, ex, cacheTicket.hit, deps.captureLimit);
      ex.timings.end = now();
      finish(ex, conn, deps);
      return;
    }
    if (deps.mock && connection.record) {
      // Every request on an intercepted host (recorded path or not) stays here: no_recording, never upstream.
      await deps.mock.serve(res, ex, deps.captureLimit, deps.redactor);
      ex.timings.end = now();
      finish(ex, conn, deps);
      return;
    }
    // Added to the upstream's raw headers by the relay (no res.setHeader: see RelayOptions).
    const extraHeaders = cacheTicket?.enforced ? [CACHE_HEADER, 'miss'] : undefined;
    missHeader = extraHeaders !== undefined;

    // A compressed answer's tail is decoded only for an exchange that is recorded (nothing else reads it).
    const capture = new BodyCapture(deps.captureLimit, true, conn.record ? () => ex.response && headerValue(ex.response.headers, 'content-encoding') : undefined);
    // A plan that can only swap the credential goes the plain relay's way with the hop's headers.
    const swapOnly = routing && policyRuntime && credentialsOnlyHop(routing.plan);
    let upstreamPath = path;
    if (swapOnly) ({ headers: forwardHeaders, path: upstreamPath } = withHopCredential({ policy: policyRuntime!.policy, facts: routing!.facts }, swapOnly, ex, forwardHeaders, path));
    const result = routing && policyRuntime && !swapOnly
      // Route, fallback: the same body bytes can go to each upstream in turn (the whole body is held).
      ? await forwardPlanned({
        pools: deps.pools, policy: policyRuntime.policy, facts: routing.facts, plan: routing.plan, logger: deps.logger, redactor: deps.redactor, extraHeaders,
        base: { method: ex.request.method, path, headers: forwardHeaders, body: Buffer.isBuffer(forwardBody) ? forwardBody : body.length > 0 ? body : null, chunked: forwardBody instanceof Readable, identity: Buffer.isBuffer(forwardBody) && forwardBody !== body ? forwardBody : decoded },
      }, res, ex, capture)
      : await relay(upstreamPath === '*' ? asteriskUpstream(() => deps.pools.dial(conn.target.tls, conn.target.host, conn.target.port), deps.upstreamHeadersTimeoutMs) : deps.pools.get(conn.target.tls, conn.target.host, conn.target.port), { method: ex.request.method, path: upstreamPath, headers: forwardHeaders, body: forwardBody }, res, ex, capture, { extraHeaders });
    if (ex.response) {
      ex.response.body = capture.result();
      const tail = capture.readableTail();
      answerTail = tail instanceof Promise ? await tail : tail;
    }
    switch (result.outcome) {
      case 'completed':
        ex.outcome = result.outcome;
        break;
      case 'client_aborted':
        // The client's connection closed under it: by the client, by llmtap's own shutdown at the
        // drain deadline, or by a reload that revoked its login (counted where it was cut).
        if (deps.cutAtShutdown?.()) {
          ex.outcome = 'proxy_error';
          ex.errorCode = 'shutdown';
          cutMidAnswer = true;
          deps.metrics.count('shutdown');
        } else if (connection.revoked) {
          ex.outcome = 'blocked';
          ex.errorCode = 'proxy_auth_required';
          cutMidAnswer = true;
        } else ex.outcome = result.outcome;
        break;
      case 'upstream_error':
        ex.outcome = 'upstream_error';
        ex.errorCode = result.code;
        cutMidAnswer = true;
        break;
      case 'upstream_failed':
        throw new LlmtapError(result.code, { cause: result.error, detail: upstreamFailureDetail(result.code, result.error, formatAuthority(conn.target.host, conn.target.port)) });
      case 'retry':
        // Only returned when another upstream remains; forwardPlanned never ends on it.
        throw new LlmtapError('internal');
    }
  } catch (error) {
    if (connection.revoked) {
      // Its connection cut by a reload that revoked its login while the body arrived: counted and logged there.
      ex.outcome = 'blocked';
      ex.errorCode = 'proxy_auth_required';
    } else failExchange(ex, res, error, deps, missHeader);
  }
  ex.timings.end = now();
  // Charged once the answer is read (its usage known) and before the record is handed over (a budget's price goes with it).
  finish(ex, conn, deps, charges.length > 0 || budgetCharges ? () => chargeUsage(ex, { charges, budgetCharges }, policyRuntime) : undefined, cutMidAnswer, answerTail);
  // The runtime the request started with: a reload meanwhile keeps the caches of unchanged rules.
  if (cacheTicket && policyRuntime?.caches) storeAnswer(cacheTicket, ex, policyRuntime.caches, policyRuntime.cachePersistence);
}

/** An exchange that ended in llmtap's own error: counted, logged, answered with the error in the provider's shape. */
function failExchange(ex: Exchange, res: ServerResponse, error: unknown, deps: ExchangeDeps, missHeader: boolean): void {
  const err = error instanceof LlmtapError ? error : new LlmtapError('internal', { cause: error });
  // A policy block is `blocked` whatever its code (request_too_large is also the buffering limit's).
  ex.outcome = ex.policy?.blocked === err.code ? 'blocked' : outcomeOf(err.code);
  ex.errorCode = err.code;
  deps.metrics.count(err.code);
  const cause = causeText(err);
  // A miss that ends in llmtap's own error answer still says so.
  if (missHeader && !res.headersSent) res.setHeader(CACHE_HEADER, 'miss');
  deps.logger.warn({ exchange: ex.id, host: deps.redactor.text(ex.target.host), path: deps.redactor.logPath(ex.request.path), code: err.code, cause: cause === undefined ? undefined : deps.redactor.text(cause) }, 'exchange failed');
  sendError(res, ex, err);
}

/** Hop-by-hop headers go; so does Expect, which Node's server already answered for the client. */
function upstreamHeaders(raw: RawHeaders): RawHeaders {
  const stripped = stripHopByHop(raw);
  const out: RawHeaders = [];
  for (let i = 0; i + 1 < stripped.length; i += 2) {
    if (stripped[i]!.toLowerCase() === 'expect') continue;
    out.push(stripped[i]!, stripped[i + 1]!);
  }
  return out;
}

function sendError(res: ServerResponse, ex: Exchange, err: LlmtapError): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const body = providerErrorBody(ex.provider, err.code, err.message);
  const headers: Record<string, string | number> = { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-llmtap-error': err.code };
  // Never let an extra header smuggle a line onto the wire (nor make writeHead throw here).
  for (const [name, value] of Object.entries({ ...providerErrorHeaders(ex.provider, err.code), ...err.headers })) if (isSafeHeaderName(name) && isSafeHeaderValue(value)) headers[name] = value;
  // The unread rest of a body (or one the client held back for a 100 Continue) would be parsed as the next request.
  if (bodyLeftUnread(res.req) || err.code === 'request_too_large' || err.code === 'bad_request' || err.code === 'target_mismatch' || err.code === 'request_timeout' || err.code === 'headers_too_large') headers.connection = 'close';
  ex.response = { status: err.status, headers: Object.entries(headers).flatMap(([k, v]) => [k, String(v)]), body: { bytes: Buffer.from(body), size: body.length, truncated: false } };
  res.writeHead(err.status, headers);
  res.end(body);
}

/**
 * After the client has its last byte: make sense of the response, charge the policy its usage, record, log.
 * `cutMidAnswer`: the provider's answer was cut by its connection breaking (or llmtap's shutdown)
 * after it began; it is read like one the client left (its text, the usage it reported, the
 * writer's estimate of the rest), since the provider bills what it generated.
 * `tail`: the last bytes of an answer cut at the capture limit, read for the usage it ends with.
 */
function finish(ex: Exchange, conn: ConnectionContext, deps: ExchangeDeps, beforeRecord?: () => void, cutMidAnswer = false, tail?: Buffer): void {
  deps.metrics.exchangesFinished++;
  // Reading the answer (decode + parse) is only worth it for exchanges that are kept; never
  // llmtap's own error answer (an error code without a provider's answer begun).
  if (conn.record && ex.response && ex.api && (!ex.errorCode || cutMidAnswer)) {
    const parser = parserFor(ex.api);
    const decoded = parser && decodeBody(ex.response.body.bytes, headerValue(ex.response.headers, 'content-encoding'));
    if (parser && decoded) {
      const reducer = parser.createReducer(headerValue(ex.response.headers, 'content-type'));
      reducer.push(decoded);
      let read = reducer.finish();
      // Cut at the capture limit: the usage at the body's end is in its tail (decoded when the
      // answer came compressed: see BodyCapture.readableTail).
      if (tail && ex.response.body.truncated) read = completeFromTail(parser, headerValue(ex.response.headers, 'content-type'), read, tail);
      const reassembled = settleFailure(read, ex.response.status);
      // The body's own counts win; some answers carry theirs only in headers.
      const fromHeaders = reassembled.usage ? undefined : parser.usageFromHeaders?.(ex.response.headers);
      if (fromHeaders) reassembled.usage = fromHeaders;
      ex.response.reassembled = reassembled;
      ex.usage = reassembled.usage;
    }
  }
  // Who sent it first: a charge prices the exchange, and subscription traffic is priced as such.
  if (conn.record || beforeRecord) describeClient(ex);
  beforeRecord?.();
  if (conn.record) {
    if (ex.response) ex.quota = readQuota(ex.response.headers);
    deps.recorder.recordExchange(ex);
  }
  const start = ex.timings.start;
  const model = ex.response?.reassembled?.model ?? ex.request.model;
  const { redactor } = deps;
  // A stream the provider ended with its own error after the 200: the relay completed it, the client's SDK threw.
  // Logged as failed, at warn as llmtap's own failures are, with the provider's error kind (`200 overloaded_error`).
  const stopError = stopErrorOf(ex.response?.status, ex.response?.reassembled?.stopReason);
  deps.logger[stopError ? 'warn' : 'info']({
    method: ex.request.method,
    host: redactor.text(ex.target.host),
    path: redactor.logPath(ex.request.path),
    model: model === undefined ? undefined : redactor.text(model),
    tool: ex.tool?.name === undefined ? undefined : redactor.text(ex.tool.name),
    status: ex.response?.status,
    in: usagePromptTokens(ex.usage, ex.api), // every prompt token, as tail and stats count them (Anthropic's cache reads too)
    out: usageOutputTokens(ex.usage, ex.api, ex.provider),
    ms: Math.round((ex.timings.end ?? start) - start),
    outcome: ex.outcome,
    code: ex.errorCode,
    error: stopError === null ? undefined : redactor.text(stopError),
    ...(conn.record ? {} : { recorded: false }),
  }, 'exchange');
}

/** Who sent the request: the tool, and (when no parser read the body) the agent ids its headers carry. */
export function describeClient(ex: Exchange): void {
  // Read once: the policy stage may have read it already (from the same headers).
  if (!Object.hasOwn(ex, 'tool')) ex.tool = identifyTool(ex.request.headers);
  // Read once: set (even to undefined) by the body parser's or the policy stage's read.
  if (!Object.hasOwn(ex, 'agent')) ex.agent = readAgentMetadata(ex.request.headers, undefined);
  // Read from the raw headers here: the archive only ever sees them redacted.
  if (isSubscriptionTraffic(ex.request.headers, ex.provider)) ex.subscription = true;
}

function outcomeOf(code: ErrorCode): Outcome {
  if (code === 'rate_limited' || code === 'blocked' || code === 'forbidden_target' || code === 'model_not_allowed' || code === 'content_blocked') return 'blocked';
  return code.startsWith('upstream_') ? 'upstream_error' : 'proxy_error';
}

function causeText(err: Error): string | undefined {
  const cause = err.cause as { code?: string; message?: string } | undefined;
  return cause?.code ?? cause?.message;
}
