import type { PolicyTestReport } from '../../policy/simulate.js';
import { tokens, usd } from './format.js';
import { renderTable, terminalWidth, useColor } from './table.js';

/** `llmtap policy test` as text: a summary of what the enforced rules would have done, then one row per rule, action and target. */
export function renderPolicyTest(report: PolicyTestReport, out?: NodeJS.WriteStream): string {
  if (report.exchanges === 0) return 'no exchanges in this range\n';
  const t = report.totals;
  const by = Object.entries(t.blockedBy).map(([code, n]) => `${n} ${code}`).join(', ');
  const detectors = Object.entries(t.detectors).map(([name, n]) => `${name}×${n}`).join(', ');
  const lines = [
    `${report.exchanges} exchanges replayed${report.since === null ? '' : ` since ${new Date(report.since).toISOString()}`}${sessions(report)}`,
    `blocked ${t.blocked}${by ? ` (${by})` : ''}`,
    `redacted ${t.redacted}${detectors ? ` (${detectors})` : ''}; max tokens clamped ${t.clamped}`,
    `rerouted ${t.rerouted}${t.rerouted > 0 ? ` (cost ${signedUsd(t.routeCostDeltaUsd)} where priced)` : ''}; fallback retries ${t.fellBack}; credentials injected ${t.credentials}`,
    `answered from the cache ${t.cached}; saved ${tokens(t.savedTokens)} tokens, ${usd(t.savedUsd)}`,
  ];
  if (report.budgetsFrom !== null) lines.push(`budgets start with the archived spend since ${new Date(report.budgetsFrom).toISOString()} (their periods' start)`);
  const head = lines.join('\n') + '\n';
  if (report.rules.length === 0) return `${head}no rule would have acted\n`;
  return head + renderTable(
    [{ header: 'RULE', flexible: true }, { header: 'KIND' }, { header: 'MODE' }, { header: 'ACTION' }, { header: 'TO / DETAIL', flexible: true }, { header: 'REQS', align: 'right' }, { header: 'TOKENS SAVED', align: 'right' }, { header: 'USD SAVED', align: 'right' }],
    report.rules.map((r) => [r.rule, r.kind, r.mode, r.action, detail(r), String(r.requests), ...(keepsUpstreamAway(r.action) ? [tokens(r.savedTokens), usd(r.savedUsd)] : ['-', '-'])]),
    { width: out ? terminalWidth(out) : undefined, color: out ? useColor(out) : false },
  ) + 'monitor rules show what they would have done; totals count enforced rules only; USD is the cost stored with each exchange\n';
}

/**
 * Whether a rule acting this way keeps the request from going upstream (a refusal or a
 * cache hit), the only way to save its tokens; a redaction, clamp, route, retry or
 * injected credential sends it on, so its row shows "-" rather than a saving of 0 (a
 * route's cheaper model is its cost change, in the detail).
 */
function keepsUpstreamAway(action: string): boolean {
  return action === 'deny' || action === 'block' || action === 'hit' || action.startsWith('limit ');
}

function detail(r: PolicyTestReport['rules'][number]): string {
  const parts: string[] = [];
  if (r.to) parts.push(r.to);
  if (r.detectors) parts.push(Object.entries(r.detectors).map(([name, n]) => `${name}×${n}`).join(', '));
  if (r.costDeltaUsd !== undefined) parts.push(`cost ${signedUsd(r.costDeltaUsd)}`);
  if (r.unpriced) parts.push(`${r.unpriced} unpriced`);
  return parts.join('; ') || '-';
}

/** WebSocket sessions: Codex's replayed request by request from their message log, others as one request each. */
function sessions(report: PolicyTestReport): string {
  const n = report.webSocketSessions;
  if (n === 0) return '';
  const k = report.sessionRequests;
  return ` (${n === 1 ? '1 WebSocket session' : `${n} WebSocket sessions`}${k > 0 ? `, ${k === 1 ? '1 request' : `${k} requests`} in them replayed one by one` : ''})`;
}

function signedUsd(v: number): string {
  return v < 0 ? `-${usd(-v)}` : `+${usd(v)}`;
}

export function policyTestJson(r: PolicyTestReport): Record<string, unknown> {
  const t = r.totals;
  return {
    exchanges: r.exchanges, websocket_sessions: r.webSocketSessions, session_requests: r.sessionRequests, since: r.since === null ? null : new Date(r.since).toISOString(),
    budgets_from: r.budgetsFrom === null ? null : new Date(r.budgetsFrom).toISOString(),
    totals: {
      blocked: t.blocked, blocked_by: t.blockedBy, rate_limited: t.rateLimited, redacted: t.redacted, detectors: t.detectors, clamped: t.clamped,
      rerouted: t.rerouted, route_cost_delta_usd: t.routeCostDeltaUsd, fell_back: t.fellBack, credentials: t.credentials,
      cached: t.cached, saved_tokens: t.savedTokens, saved_usd: t.savedUsd,
    },
    rules: r.rules.map((e) => ({
      rule: e.rule, kind: e.kind, mode: e.mode, action: e.action, to: e.to ?? null, requests: e.requests, saved_tokens: e.savedTokens, saved_usd: e.savedUsd,
      ...(e.detectors ? { detectors: e.detectors } : {}), ...(e.costDeltaUsd !== undefined ? { cost_delta_usd: e.costDeltaUsd } : {}), ...(e.unpriced ? { unpriced: e.unpriced } : {}),
    })),
  };
}
