import type Database from 'better-sqlite3';
import type { PriceInput, PriceResult } from '../cost/price-exchange.js';
import { unpricedReason, type UnpricedRow } from '../cost/unpriced-reason.js';
import { exchangeWhere, type ExchangeFilter } from './exchange-filter.js';
import { GROUP_KEYS, teamKey } from './stats-table.js';
import { statsJson } from './stats-json.js';
import type { StatsDimension, StatsRow } from './store.js';

/** Exchanges that counted tokens but have no cost, alike in what they were priced by. */
export interface UnpricedGroup {
  provider: string | null;
  host: string;
  model: string | null;
  exchanges: number;
  /** Why, as the price list says it for the group's latest exchange (cost/unpriced-reason.ts). */
  reason: string;
  /** The stats group it falls in, when asked by one (GROUP_KEYS' SQL value: a team's sender, not yet its team). */
  key?: string | null;
}

const ROW_COLUMNS = `cost_usd, cost_source, status, provider, host, port, tls, path, api, model, policy, started_at, input_tokens, output_tokens, cached_input_tokens,
  cache_creation_input_tokens, reasoning_tokens, input_audio_tokens, cached_audio_input_tokens, output_audio_tokens, usage_parts`;

/**
 * `stats`' note on what it could not put a cost on: the exchanges a filter covers that
 * counted tokens and have none (WebSocket sessions aside: priced response by response),
 * by provider, host and model, most first, each with the reason for its latest exchange.
 */
export function unpricedGroups(db: Database.Database, filter: ExchangeFilter, price: (input: PriceInput) => PriceResult, by?: StatsDimension): UnpricedGroup[] {
  const { and, params } = exchangeWhere(filter);
  // Split by the stats group too (`stats --json`: each row its own), keyed as statsTable keys it.
  const key = by === undefined ? '' : `${GROUP_KEYS[by]} AS key, `;
  const groups = db.prepare(`SELECT ${key}provider, host, model, COUNT(*) AS exchanges, MAX(rowid) AS sample FROM exchanges
    WHERE cost_usd IS NULL AND status IS NOT 101 AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL) ${and}
    GROUP BY ${by === undefined ? '' : 'key, '}provider, host, model ORDER BY exchanges DESC, sample DESC`).all(...params) as (Omit<UnpricedGroup, 'reason'> & { sample: number })[];
  const sampleRow = db.prepare(`SELECT ${ROW_COLUMNS} FROM exchanges WHERE rowid = ?`);
  return groups.map(({ sample, ...group }) => ({ ...group, reason: unpricedReason(sampleRow.get(sample) as UnpricedRow, price) ?? 'no price known' }));
}

/**
 * `stats --json`'s `unpriced_reasons`: the groups of unpricedGroups(…, by) under the stats
 * row each falls in (`regroup`: a team's members into their team, as statsTable does;
 * alike groups of its members added up). Most first, as the note under the table.
 */
export function unpricedByRow(groups: readonly UnpricedGroup[], regroup: (key: string | null) => string | null): Map<string | null, Omit<UnpricedGroup, 'key'>[]> {
  const rows = new Map<string | null, Omit<UnpricedGroup, 'key'>[]>();
  for (const { key, ...group } of groups) {
    const row = regroup(key ?? null);
    let list = rows.get(row);
    if (!list) rows.set(row, (list = []));
    const same = list.find((g) => g.provider === group.provider && g.host === group.host && g.model === group.model);
    if (same) same.exchanges += group.exchanges;
    else list.push({ ...group });
  }
  for (const list of rows.values()) list.sort((a, b) => b.exchanges - a.exchanges);
  return rows;
}

/**
 * Stats rows as `stats --json` and the web UI's usage API give them: each with its
 * `unpriced_reasons`, from unpricedGroups(…, by) over the same filter.
 */
export function statsRowsJson(by: StatsDimension, rows: readonly StatsRow[], groups: readonly UnpricedGroup[], teams: ReadonlyMap<string, string> | undefined): Record<string, unknown>[] {
  const reasons = unpricedByRow(groups, statsRowOf(by, teams));
  return rows.map((r) => ({ ...statsJson(by, r), unpriced_reasons: reasons.get(r.key) ?? [] }));
}

/** How unpricedGroups' keys fall into statsTable's rows: a team's members into their team (by team), else as they are. */
export function statsRowOf(by: StatsDimension, teams: ReadonlyMap<string, string> | undefined): (key: string | null) => string | null {
  return by === 'team' ? (key) => teamKey(key, teams ?? new Map()) : (key) => key;
}
