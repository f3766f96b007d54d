import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * The web UI's strict Content-Security-Policy: scripts, styles and requests only from
 * the proxy itself, no inline script, no eval, no plugins, never framed. Captured text
 * is untrusted; even if some of it reached the DOM as markup it could not run.
 */
export const UI_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': UI_CSP,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'referrer-policy': 'no-referrer',
  'cache-control': 'no-store',
};

/** The prebuilt bundle (ui/dist, committed): the same path from src/ui/server and dist/ui/server. */
export const UI_DIST = fileURLToPath(new URL('../../../ui/dist/', import.meta.url));

const TYPES: Record<string, string> = { 'app.js': 'text/javascript; charset=utf-8', 'app.css': 'text/css; charset=utf-8' };

/** The tab's icon, inline (a data: image the CSP allows): without one the browser asks /favicon.ico and logs the 404. */
const ICON = `data:image/svg+xml,${encodeURIComponent('<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#111827"/><path d="M4 4v8h3M9 4h4M11 4v8" stroke="#fff" stroke-width="1.6" fill="none"/></svg>')}`;

/** The one page: no inline script or style, everything from /ui/app.*. */
export const INDEX_HTML = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>llmtap</title><link rel="icon" href="${ICON}"><link rel="stylesheet" href="/ui/app.css"></head>
<body><div id="app"></div><script type="module" src="/ui/app.js"></script></body></html>
`;

const cache = new Map<string, Buffer>();

/** A bundle file by name (app.js, app.css); undefined for anything else, so no path ever reaches the file system. */
export function asset(name: string): { body: Buffer; type: string } | undefined {
  const type = Object.hasOwn(TYPES, name) ? TYPES[name] : undefined;
  if (!type) return undefined;
  let body = cache.get(name);
  if (!body) {
    try {
      body = readFileSync(`${UI_DIST}${name}`);
    } catch {
      return undefined;
    }
    cache.set(name, body);
  }
  return { body, type };
}
