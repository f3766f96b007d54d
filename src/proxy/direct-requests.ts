import type { IncomingMessage, ServerResponse } from 'node:http';
import { ERROR_CODES } from '../errors.js';
import type { Logger } from '../log.js';
import type { PrometheusMetrics } from '../metrics/prometheus.js';
import { builtInRedactor, type Redactor } from '../redact/redactor.js';
import { viewerFor } from '../ui/server/access.js';
import { isUiPath } from '../ui/server/routes.js';
import type { UiServer } from '../ui/server/ui-server.js';
import type { ProxyAuth } from './auth.js';
import { logRefusedLogin } from './login-log.js';
import { HEALTH_PATH, healthOf, type HealthFacts } from './health.js';
import { pacAnswer } from './pac.js';
import type { InterceptList } from './route.js';
import { caDownload, renderStatus, STATUS_CSP, type StatusCounters } from './status-page.js';

/** What the proxy's own pages read; getters, since a reload swaps the auth and intercept list. */
export interface DirectContext {
  auth(): ProxyAuth;
  interceptList(): InterceptList;
  prometheus: PrometheusMetrics | undefined;
  ui: UiServer;
  caPem: string | undefined;
  status(): StatusCounters;
  /** The web UI's admins (config key uiAdmins): on a gateway, the only users the status page names exchanges to. */
  admins(): readonly string[];
  health(): HealthFacts;
  logger: Logger;
  /** The running redaction (--redact patterns too), for the names the log gives. */
  redactor(): Pick<Redactor, 'text'>;
}

/**
 * Someone asked the proxy itself, not through it: the status page, the CA files,
 * the PAC file, /metrics and the web UI. On a gateway all of them are behind the
 * same users as the proxy (browsers send Authorization to the server they talk to;
 * Proxy-Authorization is accepted too) — all but /healthz, which a load balancer's
 * probe asks without credentials and which says nothing but whether to send traffic.
 */
export async function answerDirect(req: IncomingMessage, res: ServerResponse, url: string, ctx: DirectContext): Promise<void> {
  try {
    await answerOwnPage(req, res, url, ctx);
  } catch (err) {
    // A page that fails (an archive that cannot be read, a worker that died) answers 500;
    // it must never take the proxy down with it (the caller does not wait on this promise).
    ctx.logger.error({ err: builtInRedactor.text((err as Error).message), path: builtInRedactor.logPath(url) }, 'answering a request to the proxy itself failed');
    if (res.headersSent) return void res.destroy();
    res.writeHead(500, { 'content-type': 'application/json', 'x-llmtap-error': 'internal', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ error: { message: `${ERROR_CODES.internal.message}; the proxy's log says what`, type: 'llmtap_error', code: 'internal' } }));
  }
}

async function answerOwnPage(req: IncomingMessage, res: ServerResponse, url: string, ctx: DirectContext): Promise<void> {
  res.sendDate = false;
  if (url === HEALTH_PATH || url.startsWith(`${HEALTH_PATH}?`)) {
    const health = healthOf(ctx.health());
    res.writeHead(health.httpStatus, { 'content-type': 'application/json', 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    return void res.end(req.method === 'HEAD' ? undefined : JSON.stringify(health.body));
  }
  let user: string | undefined;
  const auth = ctx.auth();
  if (auth.enabled) {
    const header = req.headers.authorization ?? req.headers['proxy-authorization'];
    const login = await auth.verify(header, req.socket.remoteAddress ?? '');
    if ('refused' in login) {
      logRefusedLogin(ctx.logger, ctx.redactor(), login, req.socket.remoteAddress, 'page');
      res.writeHead(401, { 'www-authenticate': 'Basic realm="llmtap"', 'content-type': 'application/json', 'x-llmtap-error': 'unauthorized' });
      return void res.end(JSON.stringify({ error: { message: 'log in with a proxy user', type: 'llmtap_error', code: 'unauthorized' } }));
    }
    user = login.user;
  }
  // On a gateway an admin (uiAdmins) is the one who sees everyone's exchanges, the policy page and /metrics.
  const admin = viewerFor(user, auth.enabled, ctx.admins()).admin;
  if (ctx.prometheus && (url === '/metrics' || url.startsWith('/metrics?'))) {
    // The metrics name every user's budget spend (llmtap_budget_spent_usd{key="user:…"}): refused as the policy page is.
    if (!admin) {
      // Told to the operator as a refused login is: a scraper set up with the wrong user shows here, not only in its own log.
      ctx.logger.warn({ reason: 'not_admin', user: user === undefined ? undefined : ctx.redactor().text(user), client: req.socket.remoteAddress }, '/metrics refused');
      res.writeHead(403, { 'content-type': 'application/json', 'x-llmtap-error': 'forbidden', 'cache-control': 'no-store' });
      return void res.end(JSON.stringify({ error: { message: '/metrics on a gateway is for the web UI\'s admins (config key uiAdmins): scrape it as one', type: 'llmtap_error', code: 'forbidden' } }));
    }
    const text = await ctx.prometheus.render();
    res.writeHead(200, { 'content-type': ctx.prometheus.contentType, 'cache-control': 'no-store', 'x-content-type-options': 'nosniff' });
    return void res.end(text);
  }
  if (url === '/proxy.pac' || url.startsWith('/proxy.pac?')) return void pacAnswer(res, ctx.interceptList(), req.socket);
  if (isUiPath(url)) return ctx.ui.answer(req, res, url, user);
  const download = ctx.caPem ? caDownload(url, ctx.caPem) : undefined;
  if (download) {
    res.writeHead(200, { ...download.headers, 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' });
    return void res.end(download.body);
  }
  if (url !== '/' && !url.startsWith('/?')) {
    res.writeHead(404, { 'content-type': 'application/json' });
    return void res.end(JSON.stringify({ error: { message: 'not found', type: 'llmtap_error', code: 'not_found' } }));
  }
  const status = ctx.status();
  // On a gateway the last exchanges are everyone's: only an admin sees them (the web UI shows each user only their own).
  if (!admin) delete status.recent;
  const page = renderStatus(status, req.headers.accept);
  res.writeHead(200, { 'content-type': page.contentType, 'content-security-policy': STATUS_CSP, 'x-content-type-options': 'nosniff', 'cache-control': 'no-store' });
  res.end(page.body);
}
