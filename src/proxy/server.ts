import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { paths, type ProxyConfig } from '../config.js';
import type { ErrorCode } from '../errors.js';
import type { Logger } from '../log.js';
import { RateLimiter } from '../policy/rate-limit.js';
import type { Recorder } from '../recorder/recorder.js';
import { builtInRedactor, createRedactor, type Redactor } from '../redact/redactor.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { SpendSource } from '../policy/budget-charge.js';
import type { PriceOverrides } from '../cost/override-match.js';
import type { LeafCertificates } from '../tls/leaf.js';
import { changedUsers, ProxyAuth, type ProxyUser } from './auth.js';
import type { MockUpstream } from '../mock/mock-upstream.js';
import type { ConnectionContext } from './handle-exchange.js';
import { handleTunnelRequest, handleTunnelUpgrade } from './tunnel-request.js';
import { admit, targetPolicyFor, type AdmissionContext } from './admission.js';
import type { InterceptContext } from './intercept.js';
import { onPlainRequest, onPlainUpgrade, type PlainContext } from './plain-requests.js';
import { Metrics } from './metrics.js';
import type { PrometheusMetrics } from '../metrics/prometheus.js';
import type { OtlpExport } from '../otel/otlp-export.js';
import { answerMalformed, refuse } from './refusals.js';
import { makeInterceptList, type InterceptList } from './route.js';
import type { TargetPolicy } from './target-guard.js';
import { onConnect, type ConnectContext } from './connect.js';
import { PerConnectionQueue } from './pipeline.js';
import type { StatusCounters } from './status-page.js';
import { answerDirect, type DirectContext } from './direct-requests.js';
import { refuseStaleLogin, whenLoginHolds } from './login-recheck.js';
import { startObservers } from './observers.js';
import { holdWhileAnswered, OpenLogins } from './open-logins.js';
import { PolicyState } from './policy-state.js';
import { TrustReporter } from './trust-watch.js';
import type { RecentExchange } from './recent-exchanges.js';
import { answerDoctorEcho, isDoctorHost } from './doctor-echo.js';
import { deferContinue } from './expect-continue.js';
import type { OpenSession, UpgradeDeps } from './upgrade.js';
import { UpstreamPools } from './upstream.js';
import { parentSelector, resolveParents } from './parent-proxy.js';
import { UiServer } from '../ui/server/ui-server.js';
import type { RefusedReload } from '../ui/server/policy-page.js';
import { ledgerReport } from '../policy/budget-report.js';

export interface ProxyDeps {
  leafs: LeafCertificates;
  recorder: Recorder;
  logger: Logger;
  /** Archived spend for budget rules (read at start and reload), and the --prices overrides they are priced with. */
  spend?: SpendSource;
  prices?: PriceOverrides;
  /** The CA certificate, offered for download on the status page. */
  caPem?: string;
  /** The newest recorded exchanges, newest first, for the status page. */
  recentExchanges?: (limit: number) => RecentExchange[];
  /** `llmtap mock`: answer intercepted requests from recordings instead of forwarding them. */
  mock?: MockUpstream;
}

/**
 * The listening proxy. The outer HTTP server sees CONNECTs and plain absolute-URI
 * requests; intercepted CONNECTs get TLS terminated on their own socket and are
 * handed to one inner HTTP server (never listening) that parses the decrypted
 * requests. Everything else is a raw tunnel.
 */
export class ProxyServer {
  readonly metrics = new Metrics();
  /** GET /metrics (--metrics); undefined when off, and then nothing is counted beyond `metrics`. */
  readonly prometheus: PrometheusMetrics | undefined;
  /** Spans to an OTLP collector (--otlp-endpoint); undefined when off. */
  private readonly otlp: OtlpExport | undefined;
  /** The web UI under /ui/ (src/ui/server). */
  private readonly ui: UiServer;
  /** When the running policy was loaded, and the last reload refused since (the policy page shows both). */
  private policyLoadedAt = Date.now();
  private refusedReload: RefusedReload | undefined;
  /** The last users file reload refused since the running users loaded (apart: a policy loading does not answer it). */
  private refusedUsersReload: RefusedReload | undefined;
  private readonly direct: DirectContext;
  private readonly admission: AdmissionContext;
  private readonly interception: InterceptContext;
  private readonly plain: PlainContext;
  private readonly connect: ConnectContext;
  /** Clients that rejected (or likely rejected) the CA: counted, warned about once per client and host. */
  readonly trust: TrustReporter;
  /** Intercepted sockets that carried at least one request: a silent close after the handshake means distrust otherwise. */
  private readonly spoke = new WeakSet<Socket>();
  private readonly outer: Server;
  private readonly inner: Server;
  private readonly pools: UpstreamPools;
  private interceptList: InterceptList;
  private targetPolicy: TargetPolicy;
  private auth: ProxyAuth;
  private readonly connections = new WeakMap<Socket, ConnectionContext>();
  private readonly sockets = new Set<Socket>();
  private readonly rejected = new WeakSet<Socket>();
  private readonly exchangeDeps: UpgradeDeps;
  private readonly sessions = new Set<OpenSession>();
  private readonly tunnelsDone = new Set<Promise<unknown>>();
  /** Tunnels, WebSocket sessions and answers open under a gateway login: closed by a reload that revokes it. */
  private readonly logins: OpenLogins;
  private draining = false;
  /** Set at the drain deadline, as the connections still open are cut: what ends then ended by shutdown, not by its client. */
  private cutting = false;
  /** Pipelined requests of one client connection go upstream one at a time, in order. */
  private readonly pipelined = new PerConnectionQueue();
  /** Rate-limit buckets, response caches and budget spend, kept across reloads. */
  readonly policyState: PolicyState;

  constructor(private config: ProxyConfig, private readonly deps: ProxyDeps) {
    this.interceptList = makeInterceptList(config.intercept, config.passthrough);
    this.targetPolicy = this.makeTargetPolicy(config);
    this.auth = new ProxyAuth(config.auth, config.usersFile !== undefined);
    this.policyState = new PolicyState(deps.recorder, deps.logger, deps.spend, deps.prices);
    this.trust = new TrustReporter(deps.logger);
    this.pools = new UpstreamPools({
      connectTo: config.connectTo,
      extraCaFiles: config.upstreamCa,
      connectTimeoutMs: config.upstreamConnectTimeoutMs,
      headersTimeoutMs: config.upstreamHeadersTimeoutMs,
      idleTimeoutMs: config.upstreamIdleTimeoutMs,
      targetPolicy: () => this.targetPolicy,
      parent: parentSelector(resolveParents(config)),
    });
    this.exchangeDeps = {
      pools: this.pools, recorder: deps.recorder, logger: deps.logger, metrics: this.metrics,
      maxRequestBody: config.maxRequestBody, captureLimit: config.captureLimit, failClosed: config.failClosed,
      rateLimiter: config.rateLimit ? new RateLimiter(config.rateLimit) : undefined,
      policy: this.policyState.apply(config.policy),
      upstreamHeadersTimeoutMs: config.upstreamHeadersTimeoutMs, sessions: this.sessions,
      redactor: createRedactor(config.redact.map((source) => new RegExp(source, 'g'))),
      bodyProgressTimeoutMs: config.headersTimeoutMs,
      mock: deps.mock,
      cutAtShutdown: () => this.cutting,
    };
    const timeouts = {
      headersTimeout: config.headersTimeoutMs,
      // Covers receiving the whole request (head and body); the answer may take as long as it needs.
      requestTimeout: Math.max(config.headersTimeoutMs, 5 * 60_000),
      keepAliveTimeout: config.keepAliveTimeoutMs,
      connectionsCheckingInterval: Math.min(1000, config.headersTimeoutMs / 2),
      requireHostHeader: false, // refused by headRefusal instead, in llmtap's error shape (Node's 400 had no code, log or record)
    };
    ({ prometheus: this.prometheus, otlp: this.otlp } = startObservers(config, deps.recorder, deps.logger, () => this.exchangeDeps.redactor, {
      errors: () => this.metrics.errors,
      inFlight: () => this.metrics.inFlight,
      openConnections: () => this.sockets.size,
      openWebSockets: () => this.sessions.size,
      tunnels: () => ({ opened: this.metrics.tunnelsOpened, closed: this.metrics.tunnelsClosed }),
      archive: () => ({ ...deps.recorder.stats(), healthy: deps.recorder.healthy }),
      prices: () => deps.recorder.prices,
      redactor: () => this.exchangeDeps.redactor,
      budgets: () => {
        const runtime = this.exchangeDeps.policy;
        return runtime?.budgets ? ledgerReport(runtime.policy, runtime.budgets, Date.now()) : [];
      },
    }));
    this.ui = new UiServer({
      archiveFile: paths(config.home).archive, recorder: deps.recorder, redactor: () => this.exchangeDeps.redactor, prices: () => deps.recorder.prices,
      authEnabled: () => this.auth.enabled, admins: () => this.config.uiAdmins ?? [], teams: () => this.config.policy?.teams,
      policy: () => {
        const runtime = this.exchangeDeps.policy;
        return runtime && { policy: runtime.policy, file: this.config.policyFile, loadedAt: this.policyLoadedAt, budgets: runtime.budgets ? ledgerReport(runtime.policy, runtime.budgets, Date.now()) : [] };
      },
      refusedReload: () => this.refusedReload, refusedUsersReload: () => this.refusedUsersReload,
    });
    this.direct = {
      auth: () => this.auth, interceptList: () => this.interceptList, prometheus: this.prometheus, ui: this.ui,
      caPem: deps.caPem, status: () => this.statusCounters(), admins: () => this.config.uiAdmins ?? [], logger: deps.logger,
      redactor: () => this.exchangeDeps.redactor,
      health: () => ({ draining: this.draining, failClosed: this.config.failClosed, archiveHealthy: deps.recorder.healthy }),
    };
    this.admission = {
      auth: () => this.auth, targetPolicy: () => this.targetPolicy, config: () => this.config, logger: deps.logger,
      redactor: () => this.exchangeDeps.redactor,
      refuse: (socket, code, extraHeaders) => this.refuse(socket, code, extraHeaders),
    };
    this.logins = new OpenLogins({ ...this.admission, count: (code) => this.metrics.count(code) });
    this.exchangeDeps.logins = this.logins;
    this.interception = {
      leafs: deps.leafs, logger: deps.logger, metrics: this.metrics, trust: this.trust, handshakeTimeoutMs: config.handshakeTimeoutMs,
      interceptList: () => this.interceptList,
      closeExplained: (s) => this.spoke.has(s) || this.draining,
      serve: (tlsSocket, conn) => {
        this.connections.set(tlsSocket, conn);
        this.inner.emit('connection', tlsSocket);
      },
    };
    this.connect = {
      config: () => this.config, draining: () => this.draining, interceptList: () => this.interceptList, targetPolicy: () => this.targetPolicy,
      redactor: () => this.exchangeDeps.redactor, admission: this.admission, interception: this.interception, pools: this.pools,
      metrics: this.metrics, recorder: deps.recorder, logger: deps.logger, tunnelsDone: this.tunnelsDone, logins: this.logins, refuse: (socket, code) => this.refuse(socket, code),
    };
    this.plain = {
      draining: () => this.draining,
      admit: (req, socket, host, port) => admit(this.admission, req, socket, host, port, true),
      refuse: (socket, code) => this.refuse(socket, code),
      interceptList: () => this.interceptList,
      exchangeDeps: this.exchangeDeps, pipelined: this.pipelined, logins: this.logins,
      answerDirect: (req, res, url) => answerDirect(req, res, url, this.direct),
    };
    this.outer = createServer(timeouts);
    // Keep every header: llmtap measures heads itself and refuses what is over its limits
    // (request-limits.ts) rather than letting the parser drop headers silently.
    this.outer.maxHeadersCount = 0;
    this.outer.on('connection', (socket: Socket) => this.track(socket));
    this.outer.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => void onConnect(req, socket, head, this.connect));
    this.outer.on('request', (req: IncomingMessage, res: ServerResponse) => void onPlainRequest(req, res, this.plain));
    deferContinue(this.outer);
    this.outer.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.rejectMalformed(err, socket));
    this.outer.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => void onPlainUpgrade(req, socket, head, this.plain));
    this.inner = createServer(timeouts);
    this.inner.maxHeadersCount = 0;
    this.inner.on('request', (req: IncomingMessage, res: ServerResponse) => {
      const conn = this.connections.get(req.socket);
      if (!conn) return void res.destroy();
      this.spoke.add(req.socket);
      if (isDoctorHost(conn.target.host)) return answerDoctorEcho(req, res, this.trust);
      this.pipelined.run(req.socket, () => whenLoginHolds(conn, this.admission, () => holdWhileAnswered(this.logins, conn, req.socket, () => handleTunnelRequest(req, res, conn, this.exchangeDeps)), () => {
        this.metrics.count('proxy_auth_required');
        refuseStaleLogin(res, conn);
      }));
    });
    deferContinue(this.inner);
    this.inner.on('clientError', (err: NodeJS.ErrnoException, socket: Socket) => this.rejectMalformed(err, socket));
    // Upgrades (WebSocket) leave the HTTP server: from here the socket is the session's,
    // out of reach of the server's header, request and keep-alive timeouts.
    this.inner.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      const conn = this.connections.get(socket);
      if (!conn) return void socket.destroy();
      this.spoke.add(socket);
      if (this.draining) return this.refuse(socket, 'shutdown');
      void whenLoginHolds(conn, this.admission, () => handleTunnelUpgrade(req, socket, head, conn, this.exchangeDeps),
        () => this.refuse(socket, 'proxy_auth_required', 'proxy-authenticate: Basic realm="llmtap"\r\n'));
    });
    // Node starts its header/request timeout checks on 'listening'. The inner server
    // never listens (connections are handed to it), so start them here.
    this.inner.emit('listening');
  }

  async listen(): Promise<AddressInfo> {
    // With --metrics, the cost counter's pricing loads first: no exchange goes unpriced.
    await this.prometheus?.ready;
    return new Promise((resolve, reject) => {
      this.outer.once('error', reject);
      this.outer.listen(this.config.port, this.config.host, () => {
        this.outer.off('error', reject);
        this.targetPolicy = this.makeTargetPolicy(this.config);
        resolve(this.outer.address() as AddressInfo);
      });
    });
  }

  address(): AddressInfo {
    return this.outer.address() as AddressInfo;
  }

  /** Applies a reloaded config's live parts (lists, limits, users); the rest needs a restart. */
  reload(next: ProxyConfig): void {
    this.config = { ...this.config, policyFile: next.policyFile, uiAdmins: next.uiAdmins, intercept: next.intercept, passthrough: next.passthrough, allowTargets: next.allowTargets, allowPorts: next.allowPorts, rateLimit: next.rateLimit, redact: next.redact };
    this.interceptList = makeInterceptList(next.intercept, next.passthrough);
    this.targetPolicy = this.makeTargetPolicy(this.config);
    this.exchangeDeps.rateLimiter = next.rateLimit ? new RateLimiter(next.rateLimit) : undefined;
    const patterns = next.redact.map((source) => new RegExp(source, 'g'));
    this.exchangeDeps.redactor = createRedactor(patterns);
    this.deps.recorder.setRedactions(patterns);
    this.setPolicy(next.policy);
    this.setUsers(next.auth, next.usersFile);
  }

  /**
   * Swaps the proxy users (a reload: the config's, or the users file's alone). What was
   * opened under a login the swap removes or changes is checked again and closed when it
   * no longer holds (open-logins.ts), and the UI's live streams of those users end. Every
   * users file in use loaded: a refusal noted earlier is answered.
   */
  setUsers(auth: ProxyUser[], usersFile: string | undefined): void {
    const changed = changedUsers(this.config.auth, auth);
    this.config = { ...this.config, auth, usersFile };
    this.refusedUsersReload = undefined;
    this.auth = new ProxyAuth(auth, usersFile !== undefined);
    this.ui.afterReload(changed);
    void this.logins.afterReload(changed);
  }

  /**
   * Swaps the policy (reload); undefined removes the policy stage. State of unchanged rules
   * carries over. `file`: the policy file that loaded, whose earlier refusal it answers; a
   * refused config file stays noted until the config itself loads (reload(): no `file`).
   */
  setPolicy(policy: CompiledPolicy | undefined, file?: string): void {
    this.config = { ...this.config, policy };
    this.exchangeDeps.policy = this.policyState.apply(policy);
    this.policyLoadedAt = Date.now();
    if (file === undefined || this.refusedReload?.file === file) this.refusedReload = undefined;
  }

  /** A reload (the policy file's, or the config's) that did not validate: the running policy stays; the web UI's policy page says why. */
  noteRefusedReload(file: string, message: string): void {
    this.refusedReload = { at: Date.now(), file, message: builtInRedactor.text(message) };
  }

  /**
   * A users file reload that did not load (`file:line: problem`, never a hash): the running users
   * stay; the policy page says why. `configFile`: the config whose reload waits for it, which
   * is then the config's latest refusal too (an earlier one of it is no longer the reason).
   */
  noteRefusedUsersReload(file: string, message: string, configFile?: string): void {
    this.refusedUsersReload = { at: Date.now(), file, message: builtInRedactor.text(message), ...(configFile === undefined ? {} : { config: configFile }) };
    if (configFile !== undefined && this.refusedReload?.file === configFile) this.refusedReload = undefined;
  }

  /**
   * Stops accepting, lets in-flight exchanges finish until the deadline, then
   * closes whatever is left (tunnels included). Resolves when every socket is gone.
   */
  async close(drainTimeoutMs = this.config.drainTimeoutMs): Promise<void> {
    this.draining = true;
    this.ui.close();
    const closed = new Promise<void>((resolve) => this.outer.close(() => resolve()));
    this.outer.closeIdleConnections();
    this.inner.closeIdleConnections();
    const deadline = Date.now() + drainTimeoutMs;
    while (this.metrics.inFlight > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
      this.inner.closeIdleConnections();
    }
    // WebSockets do not end by themselves: those still open at the deadline are cut, and recorded as such.
    const sessions = [...this.sessions];
    this.cutting = true;
    for (const session of sessions) session.close();
    for (const socket of this.sockets) socket.destroy();
    await Promise.all([...this.tunnelsDone, ...sessions.map((s) => s.done)]);
    await closed;
    this.inner.close();
    await this.pools.close();
    // The last spans go out before the process ends (bounded by the exporter's timeout), those
    // held for an estimate once the archive has made it (at most a second more).
    await this.otlp?.shutdown(() => this.deps.recorder.stats().pending > 0).catch(() => {});
  }

  /** The redaction for what is logged: built-in rules plus --redact patterns (replaced on reload). */
  get redactor(): Redactor {
    return this.exchangeDeps.redactor;
  }

  get listening(): boolean {
    return this.outer.listening;
  }

  private makeTargetPolicy(config: ProxyConfig): TargetPolicy {
    return targetPolicyFor(config, this.outer?.listening ? (this.outer.address() as AddressInfo).port : config.port);
  }

  private track(socket: Socket): void {
    socket.setNoDelay(true);
    this.sockets.add(socket);
    socket.once('close', () => this.sockets.delete(socket));
  }

  private rejectMalformed(err: NodeJS.ErrnoException, socket: Socket): void {
    // A TLS failure on an intercepted connection (a client refusing the llmtap CA) is no
    // malformed request: the trust watch counts and logs it; nothing is left to answer.
    if (err.code?.startsWith('ERR_SSL_')) return void socket.destroy();
    // The parser reports again for every further chunk a client sends after the error
    // (say the rest of a 1 MB header): answer, count and schedule the close only once.
    if (this.rejected.has(socket)) return;
    this.rejected.add(socket);
    this.spoke.add(socket); // it sent bytes: whatever its trouble, it trusted the CA
    this.metrics.count(answerMalformed(err, socket));
  }

  private refuse(socket: Socket, code: ErrorCode, extraHeaders = ''): void {
    refuse(socket, code, extraHeaders);
    this.metrics.count(code);
  }

  private statusCounters(): StatusCounters {
    const m = this.metrics;
    return {
      exchanges: { started: m.exchangesStarted, finished: m.exchangesFinished, inFlight: m.inFlight },
      tunnels: { opened: m.tunnelsOpened, closed: m.tunnelsClosed },
      refusals: { ...m.errors },
      recorder: { ...this.deps.recorder.stats(), healthy: this.deps.recorder.healthy, failClosed: this.config.failClosed },
      uptimeSeconds: Math.round(process.uptime()),
      untrustedCa: { rejected: this.trust.rejected, likelyRejected: this.trust.likelyRejected },
      recent: this.deps.recentExchanges?.(10),
    };
  }
}
