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
