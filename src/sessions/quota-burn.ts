import type { Quota } from '../providers/quota-headers.js';

/**
 * How much of a subscription's usage windows a session or thread used: the change in
 * utilization across its exchanges. The windows are account-wide (every session of
 * the account moves them), so this is an upper bound per session when several run at
 * once — which the README says.
 *
 * Windows, as percent of the window used:
 *   anthropic.5h / anthropic.7d   `anthropic-ratelimit-unified-{5h,7d}-utilization`, a fraction 0–1
 *   codex.primary / codex.secondary   `x-codex-{primary,secondary}-used-percent`, 0–100
 */
export type QuotaWindow = 'anthropic.5h' | 'anthropic.7d' | 'codex.primary' | 'codex.secondary';

/** Per window: the last utilization seen and the burn so far, both in percent. */
export type QuotaBurn = Partial<Record<QuotaWindow, { last: number; burn: number }>>;

/** The utilization of each window one answer reported, in percent. */
export function quotaWindows(quota: Quota | undefined): Partial<Record<QuotaWindow, number>> {
  const out: Partial<Record<QuotaWindow, number>> = {};
  const fraction = (value: unknown): number | undefined => (typeof value === 'number' && value >= 0 && value <= 1 ? value * 100 : undefined);
  const percent = (value: unknown): number | undefined => (typeof value === 'number' && value >= 0 && value <= 100 ? value : undefined);
  const set = (window: QuotaWindow, value: number | undefined): void => {
    if (value !== undefined) out[window] = value;
  };
  set('anthropic.5h', fraction(quota?.anthropic?.['unified-5h-utilization']));
  set('anthropic.7d', fraction(quota?.anthropic?.['unified-7d-utilization']));
  set('codex.primary', percent(quota?.codex?.['primary-used-percent']));
  set('codex.secondary', percent(quota?.codex?.['secondary-used-percent']));
  return out;
}

/**
 * Folds one answer's windows into the burn so far. A rise adds to the burn; a fall
 * means the window reset in between, and the new value is what was used since.
 * The first value seen only sets the baseline: what came before it belongs to
 * whatever ran earlier.
 */
export function addQuota(burn: QuotaBurn | undefined, windows: Partial<Record<QuotaWindow, number>>): QuotaBurn | undefined {
  const entries = Object.entries(windows) as [QuotaWindow, number][];
  if (entries.length === 0) return burn;
  const next: QuotaBurn = { ...burn };
  for (const [window, value] of entries) {
    const seen = next[window];
    if (!seen) next[window] = { last: value, burn: 0 };
    else next[window] = { last: value, burn: round(seen.burn + (value >= seen.last ? value - seen.last : value)) };
  }
  return next;
}

function round(n: number): number {
  return Math.round(n * 1000) / 1000;
}
