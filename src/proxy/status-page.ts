import { X509Certificate } from 'node:crypto';
import { createRequire } from 'node:module';
import { INSTALL_GUIDE_HTML } from './install-guide.js';
import type { RecentExchange } from './recent-exchanges.js';

/**
 * The page a direct (non-proxy) `GET /` to the proxy's port gets: live counters as
 * JSON for machines (`Accept: application/json`), or a small self-contained HTML
 * page for people — no scripts, no external resources, a Content-Security-Policy
 * that allows neither, every value escaped. The web UI grows from here.
 */
export interface StatusCounters {
  exchanges: { started: number; finished: number; inFlight: number };
  tunnels: { opened: number; closed: number };
  refusals: Record<string, number>;
  /** failClosed: --fail-closed, under which intercepted requests are refused (503) while the archive fails. */
  recorder: { recorded: number; lost: number; pending: number; healthy: boolean; failClosed?: boolean };
  uptimeSeconds: number;
  /** Clients that rejected the CA (TLS alert) or likely did (closed silently after the handshake). */
  untrustedCa?: { rejected: number; likelyRejected: number };
  /** The newest recorded exchanges, newest first. */
  recent?: RecentExchange[];
}

/**
 * `/ca.pem` and `/ca.der` (also `/ca.crt`, the name phones and Windows open with a
 * certificate installer). Only the certificate: the key never leaves certs/.
 */
export function caDownload(url: string, caPem: string): { headers: Record<string, string>; body: string | Buffer } | undefined {
  const path = url.split('?')[0];
  if (path === '/ca.pem') return { headers: { 'content-type': 'application/x-pem-file', 'content-disposition': 'attachment; filename="llmtap-ca.pem"' }, body: caPem };
  if (path === '/ca.der' || path === '/ca.crt') {
    return { headers: { 'content-type': 'application/x-x509-ca-cert', 'content-disposition': `attachment; filename="llmtap-ca.${path.slice(4)}"` }, body: new X509Certificate(caPem).raw };
  }
  return undefined;
}

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** Nothing may load or run: the page is static text and an inline style. */
export const STATUS_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src 'none'; form-action 'none'; frame-ancestors 'none'; base-uri 'none'";

export function renderStatus(counters: StatusCounters, accept: string | undefined): { contentType: string; body: string } {
  const data = { name: 'llmtap', version: VERSION, hint: 'use me as HTTPS_PROXY / HTTP_PROXY', ...counters };
  if (!accept || /application\/json/i.test(accept) || !/text\/html/i.test(accept)) {
    return { contentType: 'application/json', body: JSON.stringify(data) };
  }
  // Counts right-aligned in figures of one width, as the web UI's tables write them.
  const rows = (entries: Array<[string, unknown]>) => entries.map(([k, v]) => `<tr><th>${escapeHtml(k)}</th><td${typeof v === 'number' ? ' class="n"' : ''}>${escapeHtml(String(v))}</td></tr>`).join('');
  const refusals = Object.entries(counters.refusals);
  // The viewport line: a phone lays the page out at its own width, not a desktop's shrunk. The
  // last exchanges scroll in their own box there, a long command or path wraps.
  const body = `<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>llmtap</title>
<style>body{font:14px system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin-bottom:1.5rem}th,td{padding:.25rem .75rem;border-bottom:1px solid #ddd;text-align:left}th{font-weight:500;color:#555}td.n{text-align:right;font-variant-numeric:tabular-nums}.box td{white-space:nowrap}code{overflow-wrap:anywhere}.box{max-width:100%;overflow-x:auto}@media (max-width:600px){body{margin:1rem}}</style></head>
<body><h1>llmtap ${escapeHtml(VERSION)}</h1><p>Use this address as <code>HTTPS_PROXY</code> / <code>HTTP_PROXY</code>. Up ${escapeHtml(String(counters.uptimeSeconds))} s. <a href="/ui/">Open the web UI</a> (live exchanges, sessions).</p>
<h2>Exchanges</h2><table>${rows([['started', counters.exchanges.started], ['finished', counters.exchanges.finished], ['in flight', counters.exchanges.inFlight]])}</table>
<h2>Tunnels</h2><table>${rows([['opened', counters.tunnels.opened], ['closed', counters.tunnels.closed]])}</table>
<h2>Archive</h2><table>${rows([['recorded', counters.recorder.recorded], ['lost', counters.recorder.lost], ['pending', counters.recorder.pending], ['healthy', counters.recorder.healthy ? 'yes' : 'no']])}</table>
<h2>Refusals and errors</h2><table>${refusals.length > 0 ? rows(refusals) : '<tr><td>none</td></tr>'}</table>
<h2>Clients that did not trust the CA</h2><table>${rows([['rejected (TLS alert)', counters.untrustedCa?.rejected ?? 0], ['closed silently after the handshake', counters.untrustedCa?.likelyRejected ?? 0]])}</table>
<h2>Last exchanges <small>(UTC)</small></h2><div class="box"><table>${recentRows(counters.recent ?? [])}</table></div>
${INSTALL_GUIDE_HTML}</body></html>`;
  return { contentType: 'text/html; charset=utf-8', body };
}

function recentRows(recent: RecentExchange[]): string {
  if (recent.length === 0) return '<tr><td>none recorded yet</td></tr>';
  const cell = (v: unknown, cls?: string) => `<td${cls ? ` class="${cls}"` : ''}>${escapeHtml(String(v))}</td>`;
  return recent.map((r) => `<tr>${cell(new Date(r.startedAt).toISOString().slice(0, 19).replace('T', ' '))}${cell(r.method)}${cell(`${r.host}${r.path}`)}${cell(r.status ?? '-', 'n')}${cell(r.model ?? '')}</tr>`).join('');
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}
