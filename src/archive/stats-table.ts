import { LEAVES_COST_OUT_SQL } from '../cost/unpriced-count.js';
import type Database from 'better-sqlite3';
import { OUTPUT_TOKENS_SQL, PROMPT_TOKENS_SQL } from '../providers/usage-totals.js';
import type { StatsDimension, StatsQuery, StatsRow } from './store.js';
import { exchangeWhere, IS_ERROR_SQL } from './exchange-filter.js';
import { splitSessionsByModel } from './stats-model-split.js';

/**
 * The group key of each dimension, in SQL. `team` groups by who sent the exchange (the
 * proxy user, else the client address) and is mapped to teams after the query (teamKey):
 * the teams live in a policy file, not in the archive.
 */
export const GROUP_KEYS: Record<StatsDimension, string> = {
  model: 'model',
  tool: 'tool_name',
  host: 'host',
  day: "strftime('%Y-%m-%d', started_at / 1000, 'unixepoch')",
  session: 'session_id',
  user: 'client_user',
  label: 'client_label',
  team: "COALESCE(client_user, char(0) || COALESCE(client_address, ''))",
};

/** One group's sums from SQL, and its exchanges' timings (percentiles need the values). */
interface Group {
  key: string | null;
  requests: number;
  errors: number;
  input: number;
  output: number;
  cached: number;
  cost: number | null;
  unpriced: number;
  /** Exchanges whose tokens (and cost) llmtap estimated: their answers reported no usage. */
  estimated: number;
  latency: number[];
  ttft: number[];
}

/**
 * Adds `from`'s sums to `into`'s, field by field: where two SQL groups fall into one (the
 * members of a team). A null sum (no priced exchange) adds nothing; onto a null, it starts one.
 */
export function addSums<T extends object>(into: T, from: T, fields: readonly (keyof T)[]): void {
  const to = into as Record<keyof T, number | null>;
  const add = from as Record<keyof T, number | null>;
  for (const f of fields) if (add[f] !== null) to[f] = (to[f] ?? 0) + add[f]!;
}

/**
 * Who an exchange counts for in `stats --by team`, keyed as a `per: team` budget keys
 * it: `team:NAME` for a member of a team, else `user:` and the proxy user, else the
 * client address. `sender` is the SQL key above (a NUL marks an address).
 */
export function teamKey(sender: string | null, teams: ReadonlyMap<string, string>): string {
  const who = sender ?? '';
  if (who.startsWith('\u0000')) return `user:${who.slice(1)}`;
  const team = teams.get(who);
  return team === undefined ? `user:${who}` : `team:${team}`;
}

/**
 * `stats`: requests, errors, tokens, cost, latency and cache hits per group of the
 * exchanges the filter covers, and the whole range's row: sums of the
 * groups, percentiles over every exchange in it at once (they do not add up).
 */
export function statsTable(db: Database.Database, query: StatsQuery): { rows: StatsRow[]; total: StatsRow | undefined } {
  const key = GROUP_KEYS[query.by];
  const { where, params } = exchangeWhere(query);
  const sums = db.prepare(`SELECT ${key} AS key, COUNT(*) AS requests, SUM(${IS_ERROR_SQL}) AS errors, SUM(${PROMPT_TOKENS_SQL}) AS input,
    SUM(${OUTPUT_TOKENS_SQL}) AS output, SUM(COALESCE(cached_input_tokens, 0)) AS cached, SUM(cost_usd) AS cost, SUM(${LEAVES_COST_OUT_SQL}) AS unpriced,
    SUM(CASE WHEN usage_estimated > 0 THEN 1 ELSE 0 END) AS estimated
    FROM exchanges ${where} GROUP BY key`).all(...params) as Omit<Group, 'latency' | 'ttft'>[];
  const regroup = query.by === 'team' ? (k: string | null) => teamKey(k, query.teams ?? new Map()) : (k: string | null) => k;
  const groups = new Map<string | null, Group>();
  for (const s of sums) {
    const k = regroup(s.key);
    const g = groups.get(k);
    if (!g) groups.set(k, { ...s, key: k, latency: [], ttft: [] });
    else addSums(g, s, ['requests', 'errors', 'input', 'output', 'cached', 'unpriced', 'estimated', 'cost']);
  }
  // One pass over the range for the timings (two numbers per exchange), grouped in memory.
  // A WebSocket session (101) lasts as long as its conversation: that is no wait for an answer.
  const timingSql = `SELECT ${key} AS key, CASE WHEN status = 101 THEN NULL ELSE ended_at - started_at END AS latency,
    first_byte_at - started_at AS ttft FROM exchanges ${where}`;
  for (const t of db.prepare(timingSql).iterate(...params) as IterableIterator<{ key: string | null; latency: number | null; ttft: number | null }>) {
    const g = groups.get(regroup(t.key));
    if (!g) continue;
    if (t.latency !== null) g.latency.push(t.latency);
    if (t.ttft !== null) g.ttft.push(t.ttft);
  }
  // The total before any split counts each exchange once; with --model, after it: only that model's part.
  let total = totalOf([...groups.values()]);
  if (query.by === 'model') {
    splitSessionsByModel(db, query, groups, (k) => ({ key: k, requests: 0, errors: 0, input: 0, output: 0, cached: 0, cost: null, unpriced: 0, estimated: 0, latency: [], ttft: [] }));
    if (query.model !== undefined || query.anyModel !== undefined) total = totalOf([...groups.values()]);
  }
  const rows = [...groups.values()].map(statsRow).sort((a, b) => (query.by === 'day' ? String(a.key).localeCompare(String(b.key)) : (b.costUsd ?? 0) - (a.costUsd ?? 0) || b.requests - a.requests));
  return { rows, total };
}

/** The whole range's row: sums of the groups, percentiles over all their exchanges at once. */
function totalOf(all: Group[]): StatsRow | undefined {
  if (all.length === 0) return undefined;
  const sum = (pick: (g: Group) => number): number => all.reduce((a, g) => a + pick(g), 0);
  const priced = all.filter((g) => g.cost !== null);
  return statsRow({
    key: 'total', requests: sum((g) => g.requests), errors: sum((g) => g.errors), input: sum((g) => g.input), output: sum((g) => g.output),
    cached: sum((g) => g.cached), cost: priced.length > 0 ? priced.reduce((a, g) => a + g.cost!, 0) : null, unpriced: sum((g) => g.unpriced), estimated: sum((g) => g.estimated),
    latency: all.flatMap((g) => g.latency), ttft: all.flatMap((g) => g.ttft),
  });
}

function statsRow(g: Group): StatsRow {
  return {
    key: g.key, requests: g.requests, errors: g.errors, inputTokens: g.input, outputTokens: g.output, cachedInputTokens: g.cached,
    costUsd: g.cost, unpriced: g.unpriced, estimated: g.estimated,
    latencyP50Ms: percentile(g.latency, 0.5), latencyP95Ms: percentile(g.latency, 0.95),
    ttftP50Ms: percentile(g.ttft, 0.5), ttftP95Ms: percentile(g.ttft, 0.95),
    cacheHitRatio: g.input > 0 ? Math.min(1, g.cached / g.input) : null,
  };
}

/** Nearest-rank percentile; null for no values. */
export function percentile(values: number[], p: number): number | null {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!);
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
