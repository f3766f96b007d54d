import { csvText } from '../../archive/csv.js';
import { NO_ROW, statsJson } from '../../archive/stats-json.js';
import type { ExchangeFilter } from '../../archive/exchange-filter.js';
import type { ArchiveReader, StatsDimension, StatsQuery } from '../../archive/store.js';
import { statsRowsJson } from '../../archive/unpriced-groups.js';
import type { PriceOverrides } from '../../cost/override-match.js';
import type { SeriesDimension } from '../../archive/time-series.js';
import { queriedUser, type Viewer } from './access.js';
import { queryText } from './list-query.js';
import { loadPrice } from './prices-for.js';

/** What the usage page groups by: `stats`' groupings but sessions (too many to read as a table). */
export const USAGE_GROUPS: readonly StatsDimension[] = ['model', 'tool', 'host', 'day', 'user', 'team', 'label'];
/** What the charts split their lines by. */
export const SERIES_GROUPS: readonly SeriesDimension[] = ['model', 'tool', 'user', 'team'];

/**
 * A report's query (`by` one of `groups`, `since` and `until` in epoch ms, and `stats`'
 * filters), or the one-line problem. A viewer who is not an admin counts only their own
 * exchanges, whatever `user` says; teams come from the running policy.
 */
export function parseReportQuery<D extends string>(params: URLSearchParams, viewer: Viewer, teams: ReadonlyMap<string, string> | undefined, groups: readonly D[]): (ExchangeFilter & { by: D; teams?: ReadonlyMap<string, string> }) | { problem: string } {
  const by = (params.get('by') ?? 'model') as D;
  if (!groups.includes(by)) return { problem: `by "${params.get('by')}": expected one of ${groups.join(', ')}` };
  if (by === 'team' && !teams) return { problem: 'by "team": the running policy names no teams' };
  const time = (name: string): number | undefined | { problem: string } => {
    const raw = params.get(name);
    if (raw === null || raw === '') return undefined;
    const at = Number(raw);
    return Number.isFinite(at) ? at : { problem: `${name} "${raw}": expected a time in epoch milliseconds` };
  };
  const since = time('since');
  const until = time('until');
  for (const t of [since, until]) if (typeof t === 'object') return t;
  const text = (name: string): string | undefined => queryText(params, name);
  return {
    by, since: since as number | undefined, until: until as number | undefined, teams,
    // A model as `stats --model` reads it: any that answered, a session that switched models found by each.
    tool: text('tool'), anyModel: text('model'), host: text('host'), label: text('label'), status: text('status'),
    user: queriedUser(viewer, text('user')),
  };
}

export interface UsagePageQuery extends StatsQuery {
  /** The proxy's --prices overrides: why an exchange has no cost is asked of the prices it was recorded with. */
  prices: PriceOverrides | undefined;
}

export type UsagePage = { rows: Record<string, unknown>[]; total: Record<string, unknown> | null };

/**
 * The usage page's table: one row per group as `stats --json` gives them (with
 * `unpriced_reasons`: the exchanges that counted tokens but have no cost, by model, and
 * why), and the total with the reasons over all groups, as the note under `stats`' table.
 * Run in the report thread (report-worker.ts), so a month of exchanges does not hold the
 * proxy's event loop; the price data is loaded there, only when some exchange lacks a cost.
 */
export async function usagePage(reader: ArchiveReader, query: UsagePageQuery): Promise<UsagePage> {
  const { prices, ...stats } = query;
  const { rows, total } = reader.statsTable(stats);
  const price = total && total.unpriced > 0 ? await loadPrice(prices) : undefined;
  const all = price ? reader.unpricedGroups(stats, price) : [];
  return {
    rows: statsRowsJson(stats.by, rows, price ? reader.unpricedGroups(stats, price, stats.by) : [], stats.teams),
    total: total ? { ...statsJson(stats.by, total), unpriced_reasons: all } : null,
  };
}

/** The usage page's table, read off the proxy's event loop (usagePage). */
export async function usageBody(reader: ArchiveReader, query: UsagePageQuery): Promise<UsagePage> {
  return reader.inBackground('usagePage', query);
}

/** The same groups as CSV (`stats --csv`). */
export async function usageCsv(reader: ArchiveReader, query: StatsQuery): Promise<string> {
  const { rows } = await reader.inBackground('statsTable', query);
  return csvText(rows.map((r) => statsJson(query.by, r)), statsJson(query.by, NO_ROW));
}
