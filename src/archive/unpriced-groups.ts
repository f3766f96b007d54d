import type Database from 'better-sqlite3';
import type { PriceInput, PriceResult } from '../cost/price-exchange.js';
import { unpricedReason, type UnpricedRow } from '../cost/unpriced-reason.js';
import { exchangeWhere, type ExchangeFilter } from './exchange-filter.js';

/** Exchanges that counted tokens but have no cost, alike in what they were priced by. */
export interface UnpricedGroup {
  provider: string | null;
  host: string;
  model: string | null;
  exchanges: number;
  /** Why, as the price list says it for the group's latest exchange (cost/unpriced-reason.ts). */
  reason: string;
}

const ROW_COLUMNS = `cost_usd, cost_source, status, provider, host, port, tls, path, api, model, policy, started_at, input_tokens, output_tokens, cached_input_tokens,
  cache_creation_input_tokens, reasoning_tokens, input_audio_tokens, cached_audio_input_tokens, output_audio_tokens`;

/**
 * `stats`' note on what it could not put a cost on: the exchanges a filter covers that
 * counted tokens and have none (WebSocket sessions aside: priced response by response),
 * by provider, host and model, most first, each with the reason for its latest exchange.
 */
export function unpricedGroups(db: Database.Database, filter: ExchangeFilter, price: (input: PriceInput) => PriceResult): UnpricedGroup[] {
  const { and, params } = exchangeWhere(filter);
  const groups = db.prepare(`SELECT provider, host, model, COUNT(*) AS exchanges, MAX(rowid) AS sample FROM exchanges
    WHERE cost_usd IS NULL AND status IS NOT 101 AND (input_tokens IS NOT NULL OR output_tokens IS NOT NULL) ${and}
    GROUP BY provider, host, model ORDER BY exchanges DESC, sample DESC`).all(...params) as (Omit<UnpricedGroup, 'reason'> & { sample: number })[];
  const sampleRow = db.prepare(`SELECT ${ROW_COLUMNS} FROM exchanges WHERE rowid = ?`);
  return groups.map(({ sample, ...group }) => ({ ...group, reason: unpricedReason(sampleRow.get(sample) as UnpricedRow, price) ?? 'no price known' }));
}
