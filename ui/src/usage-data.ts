/** The usage page's periods, in UTC like `stats --since DATE` and the budgets' periods. */
export const PERIODS = [
  ['24h', 'last 24 hours'], ['7d', 'last 7 days'], ['30d', 'last 30 days'],
  ['month', 'this month (UTC)'], ['last-month', 'last month (UTC)'], ['all', 'everything'],
] as const;

export type Period = (typeof PERIODS)[number][0];

export const USAGE_GROUPS = ['model', 'tool', 'host', 'day', 'user', 'team', 'label'] as const;
export type UsageGroup = (typeof USAGE_GROUPS)[number];

const HOUR = 3_600_000;

/** A period as [since, until) in epoch ms; either end open when undefined. */
export function periodRange(period: Period, now: number): { since?: number; until?: number } {
  const d = new Date(now);
  const monthStart = (offset: number) => Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + offset, 1);
  switch (period) {
    case '24h': return { since: now - 24 * HOUR };
    case '7d': return { since: now - 7 * 24 * HOUR };
    case '30d': return { since: now - 30 * 24 * HOUR };
    case 'month': return { since: monthStart(0) };
    case 'last-month': return { since: monthStart(-1), until: monthStart(0) };
    default: return {};
  }
}

/** A report API's URL for a grouping and period (`usage`, `series`; `csv`: the usage groups as a CSV download). */
export function reportUrl(report: 'usage' | 'series', by: string, period: Period, now: number, csv = false): string {
  const params = new URLSearchParams({ by });
  const { since, until } = periodRange(period, now);
  if (since !== undefined) params.set('since', String(since));
  if (until !== undefined) params.set('until', String(until));
  if (csv) params.set('format', 'csv');
  return `/ui/api/${report}?${params.toString()}`;
}

/** Exchanges that counted tokens but have no cost, alike in model, provider and host (`stats --json`'s `unpriced_reasons`). */
export interface UnpricedReason {
  provider: string | null;
  host: string;
  model: string | null;
  exchanges: number;
  reason: string;
}

/** Groups named under the table at most, as under `stats`' table; the rest are counted. */
const UNPRICED_SHOWN = 5;

/**
 * The note under the usage table, one line per group: "2 exchanges of acme-1 (openai,
 * api.openai.com) have no price: unknown model …", so the model a --prices rule should
 * name is one look away; the rest summed in a last line.
 */
export function unpricedLines(groups: readonly UnpricedReason[]): string[] {
  const lines = groups.slice(0, UNPRICED_SHOWN).map((g) => {
    const where = g.provider ? `${g.provider}, ${g.host}` : g.host;
    return `${g.exchanges} ${g.exchanges === 1 ? 'exchange' : 'exchanges'} of ${g.model ?? '(no model)'} (${where}) ${g.exchanges === 1 ? 'has' : 'have'} no price: ${g.reason}`;
  });
  const rest = groups.slice(UNPRICED_SHOWN);
  if (rest.length > 0) {
    const n = rest.reduce((sum, g) => sum + g.exchanges, 0);
    lines.push(`… and ${n} ${n === 1 ? 'exchange' : 'exchanges'} of ${rest.length} more ${rest.length === 1 ? 'model' : 'models'}`);
  }
  return lines;
}

/** Whether a --prices file would price some of them: a model the price list lacks is the one case fixed from here. */
export function pricesWouldHelp(groups: readonly UnpricedReason[]): boolean {
  return groups.some((g) => g.reason.startsWith('unknown model'));
}
