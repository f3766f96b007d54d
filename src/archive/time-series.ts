import type Database from 'better-sqlite3';
import { OUTPUT_TOKENS_SQL, PROMPT_TOKENS_SQL } from '../providers/usage-totals.js';
import { exchangeWhere, IS_ERROR_SQL, type ExchangeFilter } from './exchange-filter.js';
import { addSums, GROUP_KEYS, teamKey } from './stats-table.js';
import { switchedSessions, type SplitFigures } from './stats-model-split.js';

/** What the web UI's charts split their lines by. */
export type SeriesDimension = 'model' | 'tool' | 'user' | 'team';

export interface SeriesQuery extends ExchangeFilter {
  by: SeriesDimension;
  /** Proxy user → team, for `by: 'team'`. */
  teams?: ReadonlyMap<string, string>;
}

/** One group's sums in one time bucket. */
export interface SeriesPoint {
  /** The bucket's start, epoch ms (a multiple of the step: days start at 00:00 UTC). */
  at: number;
  key: string | null;
  requests: number;
  errors: number;
  promptTokens: number;
  cachedTokens: number;
  outputTokens: number;
  /** Unpriced exchanges count 0. */
  costUsd: number;
}

export interface TimeSeries {
  /** The bucket width, ms; 0 when nothing matched. */
  step: number;
  /** Oldest bucket first; buckets with nothing in them are left out. */
  points: SeriesPoint[];
}

const STEPS = [1, 5, 10, 30, 60, 300, 900, 1800, 3600, 6 * 3600, 86_400, 7 * 86_400].map((s) => s * 1000);

/** A bucket width giving about `target` buckets over `spanMs`, rounded up to a step people read easily. Pure. */
export function bucketStep(spanMs: number, target = 40): number {
  return STEPS.find((s) => s * target >= spanMs) ?? STEPS.at(-1)!;
}

/**
 * Requests, errors, tokens and cost per time bucket and group over the exchanges the
 * filter covers (the web UI's charts, over the whole archive rather than its newest
 * rows): the step follows the span the exchanges actually cover, about 40 buckets.
 */
export function timeSeries(db: Database.Database, query: SeriesQuery): TimeSeries {
  const { where, params } = exchangeWhere(query);
  const span = db.prepare(`SELECT MIN(started_at) AS first, MAX(started_at) AS last FROM exchanges ${where}`).get(...params) as { first: number | null; last: number | null };
  if (span.first === null || span.last === null) return { step: 0, points: [] };
  const step = bucketStep(span.last - span.first);
  const rows = db.prepare(`SELECT CAST(started_at / ${step} AS INTEGER) * ${step} AS at, ${GROUP_KEYS[query.by]} AS key, COUNT(*) AS requests, SUM(${IS_ERROR_SQL}) AS errors,
    SUM(${PROMPT_TOKENS_SQL}) AS promptTokens, SUM(COALESCE(cached_input_tokens, 0)) AS cachedTokens, SUM(${OUTPUT_TOKENS_SQL}) AS outputTokens,
    COALESCE(SUM(cost_usd), 0) AS costUsd FROM exchanges ${where} GROUP BY at, key ORDER BY at`).all(...params) as SeriesPoint[];
  if (query.by === 'model') return { step, points: splitByModel(db, query, step, rows) };
  if (query.by !== 'team') return { step, points: rows };
  // Teams live in the policy file: members' rows merge under their team.
  const merged = new Map<string, SeriesPoint>();
  for (const r of rows) {
    const key = teamKey(r.key, query.teams ?? new Map());
    const id = `${r.at}\n${key}`;
    const m = merged.get(id);
    if (!m) merged.set(id, { ...r, key });
    else addSums(m, r, ['requests', 'errors', 'promptTokens', 'cachedTokens', 'outputTokens', 'costUsd']);
  }
  return { step, points: [...merged.values()] };
}

/**
 * The points by model with each session that switched models split among them
 * (switchedSessions), in its bucket: each model its tokens and cost, and one request.
 */
function splitByModel(db: Database.Database, query: SeriesQuery, step: number, rows: SeriesPoint[]): SeriesPoint[] {
  const points = new Map(rows.map((r) => [`${r.at}\n${r.key}`, r]));
  const point = (at: number, key: string | null): SeriesPoint | undefined => points.get(`${at}\n${key}`);
  for (const s of switchedSessions(db, query)) {
    const at = Math.floor(s.startedAt / step) * step;
    const whole = s.counted ? point(at, s.model) : undefined;
    if (whole) move(whole, s.whole, -1);
    for (const part of s.parts) {
      let p = point(at, part.model);
      if (!p) points.set(`${at}\n${part.model}`, (p = { at, key: part.model, requests: 0, errors: 0, promptTokens: 0, cachedTokens: 0, outputTokens: 0, costUsd: 0 }));
      move(p, part.figures, 1);
    }
    if (whole && whole.requests <= 0) points.delete(`${at}\n${s.model}`);
  }
  return [...points.values()].sort((a, b) => a.at - b.at);
}

function move(p: SeriesPoint, f: SplitFigures, sign: 1 | -1): void {
  p.requests += sign;
  p.promptTokens += sign * f.input;
  p.outputTokens += sign * f.output;
  p.cachedTokens += sign * f.cached;
  p.costUsd += sign * (f.cost ?? 0);
}
