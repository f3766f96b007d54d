import type { IncomingMessage, ServerResponse } from 'node:http';
import { writeLines } from '../../archive/export.js';
import type { ExchangeFilter } from '../../archive/exchange-filter.js';
import type { ArchiveReader } from '../../archive/store.js';
import { usdFigure } from '../../archive/stats-json.js';
import { estimatesDue } from '../../cli/estimate-wait.js';
import { sessionJson } from '../../cli/sessions.js';
import { HOLD_MS } from '../../cli/tail-hold.js';
import type { PriceOverrides } from '../../cost/override-match.js';
import { canSee, isLoopbackHostHeader, queriedUser, viewerFor, type Viewer } from './access.js';
import { asset, INDEX_HTML, SECURITY_HEADERS } from './assets.js';
import { listItem } from './list-item.js';
import { parseListQuery, parseSessionPage, queryText } from './list-query.js';
import type { LiveHub } from './live.js';
import { parseReportQuery, SERIES_GROUPS, USAGE_GROUPS, usageBody, usageCsv } from './usage.js';
import { DECISIONS_DAYS, policyPage, type RefusedReload, type RunningPolicy } from './policy-page.js';

export interface UiDeps {
  /** The archive's read side; undefined while there is no archive yet. */
  reader: () => ArchiveReader | undefined;
  live: LiveHub;
  authEnabled: () => boolean;
  /** Proxy users who see everything in gateway mode (config file key `uiAdmins`). */
  admins: () => readonly string[];
  /** Proxy user → team, from the running policy's `teams:`. */
  teams: () => ReadonlyMap<string, string> | undefined;
  /** The running policy (the policy page); undefined without one. */
  policy: () => RunningPolicy | undefined;
  /** The last policy or config reload refused since the running policy loaded. */
  refusedReload: () => RefusedReload | undefined;
  /** The last users file reload refused since the running users loaded (with a policy or without). */
  refusedUsersReload: () => RefusedReload | undefined;
  /** The recorder's state: whether what goes through is being kept. */
  archive: () => { healthy: boolean; recorded: number; lost: number };
  /** The proxy's --prices overrides (a Codex session's cost is shared among its requests by the prices it was recorded with). */
  prices: () => PriceOverrides | undefined;
}

/** Whether a direct request's path belongs to the web UI. */
export function isUiPath(url: string): boolean {
  return url === '/ui' || url.startsWith('/ui/') || url.startsWith('/ui?');
}

/**
 * The web UI on the proxy's own port: the page, its prebuilt bundle, a JSON API over
 * the archive's read side and the live stream. The caller has already checked the
 * proxy login (gateway mode) and passes the user it names.
 */
export async function answerUi(req: IncomingMessage, res: ServerResponse, url: string, user: string | undefined, deps: UiDeps): Promise<void> {
  const { pathname, searchParams } = new URL(url, 'http://ui.invalid');
  const viewer = viewerFor(user, deps.authEnabled(), deps.admins());
  if (!deps.authEnabled() && !isLoopbackHostHeader(req.headers.host)) {
    return sendJson(res, 403, errorBody('forbidden_host', 'open the web UI at http://127.0.0.1:PORT/ui/ or http://localhost:PORT/ui/'));
  }
  if (req.method !== 'GET' && req.method !== 'HEAD') return sendJson(res, 405, errorBody('method_not_allowed', 'the web UI is read-only'));
  if (pathname === '/ui') {
    res.writeHead(308, { ...SECURITY_HEADERS, location: '/ui/' });
    return void res.end();
  }
  if (pathname === '/ui/') {
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/html; charset=utf-8' });
    return void res.end(INDEX_HTML);
  }
  if (pathname === '/ui/api/live') return deps.live.subscribe(res, viewer, SECURITY_HEADERS);
  if (pathname.startsWith('/ui/api/')) return answerApi(res, pathname.slice('/ui/api/'.length), searchParams, viewer, deps);
  const file = asset(pathname.slice('/ui/'.length));
  if (!file) return sendJson(res, 404, errorBody('not_found', 'not found'));
  res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': file.type, 'cache-control': 'no-cache' });
  res.end(file.body);
}

async function answerApi(res: ServerResponse, route: string, params: URLSearchParams, viewer: Viewer, deps: UiDeps): Promise<void> {
  if (route === 'me') return sendJson(res, 200, { user: viewer.user ?? null, admin: viewer.admin, teams: teamsFor(viewer, deps.teams()) });
  if (route === 'policy') return sendPolicy(res, viewer, deps);
  // Asked by every page now and then: the banner that says exchanges are not being recorded.
  if (route === 'archive') return sendJson(res, 200, deps.archive());
  const reader = deps.reader();
  if (!reader) return sendJson(res, 503, errorBody('archive_unavailable', 'no archive yet: nothing has been recorded'));
  if (route === 'exchanges') {
    const query = parseListQuery(params, viewer);
    // A text search decodes up to 2,000 bodies (seconds on a large archive): off the loop that relays traffic.
    const rows = query.text ? await reader.inBackground('listExchanges', query) : reader.listExchanges(query);
    return sendJson(res, 200, { exchanges: rows.map(listItem) });
  }
  if (route === 'series') {
    const query = parseReportQuery(params, viewer, deps.teams(), SERIES_GROUPS);
    if ('problem' in query) return sendJson(res, 400, errorBody('bad_query', query.problem));
    const series = await reader.inBackground('timeSeries', query);
    // Each bucket's cost as the CLI's JSON gives a sum (usdFigure: without its binary noise).
    return sendJson(res, 200, { ...series, points: series.points.map((p) => ({ ...p, costUsd: usdFigure(p.costUsd)! })) });
  }
  if (route === 'usage') {
    const query = parseReportQuery(params, viewer, deps.teams(), USAGE_GROUPS);
    if ('problem' in query) return sendJson(res, 400, errorBody('bad_query', query.problem));
    if (params.get('format') !== 'csv') return sendJson(res, 200, await usageBody(reader, { ...query, prices: deps.prices() }));
    const csv = await usageCsv(reader, query);
    res.writeHead(200, { ...SECURITY_HEADERS, 'content-type': 'text/csv; charset=utf-8', 'content-disposition': `attachment; filename="llmtap-usage-by-${query.by}.csv"`, 'cache-control': 'no-store' });
    return void res.end(csv);
  }
  if (route === 'sessions') {
    // `sessions`' filters; a viewer who is not an admin lists only their own sessions, whatever `user` says.
    const text = (name: string): string | undefined => queryText(params, name);
    // Paged by offset (the UI's "load older"): the archive's session query has no cursor.
    const { offset, limit } = parseSessionPage(params);
    const sessions = reader.sessions({ limit: offset + limit, tool: text('tool'), model: text('model'), label: text('label'), user: queriedUser(viewer, text('user')) })
      .slice(offset).filter((s) => canSee(viewer, s.clientUser));
    // A session whose answer awaits the writer's token estimate reads 0 tokens for a moment: the page asks again while `estimates_due`.
    const recent = sessions.filter((s) => s.endedAt + HOLD_MS > Date.now()).map((s) => s.id);
    return sendJson(res, 200, { sessions: sessions.map(sessionJson), ...(estimatesDue(reader.awaitingEstimates(recent)) ? { estimates_due: true } : {}) });
  }
  const [kind, rawId, action, ...rest] = route.split('/');
  const id = decodeURIComponent(rawId ?? '');
  if (action === 'export' && rest.length === 0 && id && (kind === 'exchanges' || kind === 'sessions')) return sendExport(res, reader, kind, id, params.get('format'), viewer);
  if (action !== undefined) return sendJson(res, 404, errorBody('not_found', `no API route "${route}"`));
  if (kind === 'exchanges' && id) {
    // Its bodies decoded and parsed (a Codex session's whole message log): in the report thread, off the loop that relays traffic (exchange-page.ts).
    const page = await reader.inBackground('exchangePage', { id, viewer: { user: viewer.user, admin: viewer.admin }, prices: deps.prices() });
    if (page === undefined) return sendJson(res, 404, errorBody('not_found', `no exchange "${id}"`));
    return sendJsonText(res, 200, page);
  }
  if (kind === 'sessions' && id) {
    // Every body of the session decoded and parsed: in the report thread, off the loop that relays traffic (session-page.ts).
    const page = await reader.inBackground('sessionPage', { id, viewer: { user: viewer.user, admin: viewer.admin }, prices: deps.prices() });
    if (page === undefined) return sendJson(res, 404, errorBody('not_found', `no session "${id}"`));
    return sendJsonText(res, 200, page);
  }
  sendJson(res, 404, errorBody('not_found', `no API route "${route}"`));
}

/** The policy page: for the UI's admins only (it names every user's budget keys and the rules' settings). */
async function sendPolicy(res: ServerResponse, viewer: Viewer, deps: UiDeps): Promise<void> {
  if (!viewer.admin) return sendJson(res, 403, errorBody('forbidden', 'the policy page is for the web UI\'s admins (config key uiAdmins)'));
  const running = deps.policy();
  const refused = { refused_reload: deps.refusedReload() ?? null, refused_users_reload: deps.refusedUsersReload() ?? null };
  if (!running) return sendJson(res, 200, { policy: null, ...refused });
  const now = Date.now();
  const decisions = (await deps.reader()?.inBackground('ruleStats', { since: now - DECISIONS_DAYS * 86_400_000 })) ?? [];
  sendJson(res, 200, { policy: policyPage(running, decisions, now), ...refused });
}

/** What a download is sent as, per format. */
const EXPORT_TYPES = { har: 'application/json; charset=utf-8', jsonl: 'application/x-ndjson; charset=utf-8', csv: 'text/csv; charset=utf-8' } as const;

/**
 * A session or one exchange as `llmtap export` writes it (`format=har`, the default,
 * `jsonl` or `csv`), as a download: what the viewer may see of it (a user who is not an
 * admin, their own exchanges only), streamed a row at a time as the client reads.
 */
async function sendExport(res: ServerResponse, reader: ArchiveReader, kind: 'exchanges' | 'sessions', id: string, asked: string | null, viewer: Viewer): Promise<void> {
  const format = asked ?? 'har';
  if (!Object.hasOwn(EXPORT_TYPES, format)) return sendJson(res, 400, errorBody('bad_format', `format "${format}": expected har, jsonl or csv`));
  const filter: ExchangeFilter = kind === 'sessions' ? { session: id } : { id };
  if (!viewer.admin && viewer.user !== undefined) filter.user = viewer.user;
  const lines = reader.listExchanges({ ...filter, limit: 1 });
  if (lines.length === 0) return sendJson(res, 404, errorBody('not_found', `no ${kind === 'sessions' ? 'session' : 'exchange'} "${id}"`));
  const as = format as keyof typeof EXPORT_TYPES;
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    'content-type': EXPORT_TYPES[as],
    'content-disposition': `attachment; filename="llmtap-${kind === 'sessions' ? 'session' : 'exchange'}-${id.replace(/[^\w.-]/g, '_')}.${as}"`,
    'cache-control': 'no-store',
  });
  try {
    await writeLines(reader.exportLines(as, filter), res);
  } finally {
    res.end();
  }
}

/** The teams a viewer may see: every user's for an admin, else only the viewer's own (a user sees only their own exchanges). */
function teamsFor(viewer: Viewer, teams: ReadonlyMap<string, string> | undefined): Record<string, string> {
  if (!teams) return {};
  if (viewer.admin) return Object.fromEntries(teams);
  const own = viewer.user === undefined ? undefined : teams.get(viewer.user);
  return own === undefined ? {} : { [viewer.user!]: own };
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  sendJsonText(res, status, JSON.stringify(body));
}

/** JSON already serialised (the report thread's answers cross back as text, or UTF-8 bytes). */
function sendJsonText(res: ServerResponse, status: number, text: string | Uint8Array): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'content-type': 'application/json; charset=utf-8' });
  res.end(text);
}

function errorBody(code: string, message: string): unknown {
  return { error: { message, type: 'llmtap_error', code } };
}
