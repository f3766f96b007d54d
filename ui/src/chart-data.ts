import type { UiListItem } from './api.js';

/** What the cost and token charts split their lines by. */
export type GroupBy = 'model' | 'tool' | 'user' | 'team';
/** `team` only when the running policy names teams (`/ui/api/me`). */
export const GROUP_BYS: readonly GroupBy[] = ['model', 'tool', 'user', 'team'];

/** Proxy user → team, as `/ui/api/me` gives them. */
export type Teams = Readonly<Record<string, string>>;

export const NONE = '(none)';
export const OTHER = '(other)';

/**
 * The group a row counts for. By team as `stats --by team` and a `per: team` budget key
 * it: `team:NAME` for a member, else `user:` and the proxy user.
 */
export function groupOf(row: UiListItem, by: GroupBy, teams: Teams = {}): string {
  if (by === 'team') return row.user === null ? NONE : Object.hasOwn(teams, row.user) ? `team:${teams[row.user]}` : `user:${row.user}`;
  return (by === 'model' ? row.model : by === 'tool' ? row.tool : row.user) ?? NONE;
}

/**
 * One cumulative line per group over `rows` (oldest first): the groups with the
 * largest totals get their own line, the rest are summed into "(other)", so a chart
 * stays readable with many models or users. Pure.
 */
export function cumulativeBy(rows: readonly UiListItem[], by: GroupBy, pick: (r: UiListItem) => number, maxLines: number, teams: Teams = {}): { names: string[]; series: number[][] } {
  const totals = new Map<string, number>();
  for (const r of rows) totals.set(groupOf(r, by, teams), (totals.get(groupOf(r, by, teams)) ?? 0) + pick(r));
  const ranked = [...totals.keys()].sort((a, b) => totals.get(b)! - totals.get(a)! || a.localeCompare(b));
  const own = ranked.length <= maxLines ? ranked : ranked.slice(0, maxLines - 1);
  const names = ranked.length <= maxLines ? own : [...own, OTHER];
  const index = new Map(own.map((n, i) => [n, i]));
  const sums = names.map(() => 0);
  const series = names.map(() => [] as number[]);
  for (const r of rows) {
    const i = index.get(groupOf(r, by, teams)) ?? names.length - 1;
    sums[i]! += pick(r);
    sums.forEach((sum, j) => series[j]!.push(sum));
  }
  return { names, series };
}

/**
 * A colour per line that stays with its group from chart to chart: the cost chart ranks
 * its groups by cost and the token chart by tokens, so by position alone a model would
 * change colour between them. Groups named in `reference` keep its colours (its order
 * is the palette's); others take the palette's next unused colours. Pure.
 */
export function colorsFor(names: readonly string[], reference: readonly string[], palette: readonly string[]): string[] {
  const fixed = new Map(reference.map((n, i) => [n, palette[i % palette.length]!]));
  const unused = palette.filter((c) => ![...fixed.values()].includes(c));
  let next = 0;
  return names.map((n) => fixed.get(n) ?? unused[next++ % Math.max(1, unused.length)] ?? palette[0]!);
}

/** A bucket width giving about `target` buckets over `spanMs`, rounded up to a step people read easily. */
export function bucketStep(spanMs: number, target = 40): number {
  const steps = [1, 5, 10, 30, 60, 300, 900, 1800, 3600, 6 * 3600, 86_400, 7 * 86_400].map((s) => s * 1000);
  return steps.find((s) => s * target >= spanMs) ?? steps.at(-1)!;
}

/**
 * The x range of a time chart: uPlot's own, except when every x is the same one, which
 * uPlot widens by ~1,000 days before asking (a chart of one time bucket read "Mar 2027 …
 * Sep 2029"): then `pad` seconds either side. Pure.
 */
export function timeRange(xs: ArrayLike<number>, min: number, max: number, pad: number): [number, number] {
  return xs.length > 0 && xs[0] === xs[xs.length - 1] ? [xs[0]! - pad, xs[0]! + pad] : [min, max];
}

export interface Buckets {
  /** Bucket starts, epoch seconds (uPlot's x). */
  xs: number[];
  requests: number[];
  errors: number[];
  /** Cached share of prompt tokens in the bucket, percent; null where no prompt tokens were sent. */
  cacheHit: (number | null)[];
}

export function failed(r: Pick<UiListItem, 'status' | 'outcome'>): boolean {
  return (r.outcome !== null && r.outcome !== 'completed') || (r.status ?? 0) >= 400;
}

/** Requests, errors and the cache hit ratio per time bucket of `stepMs`, empty buckets included. Pure. */
export function timeBuckets(rows: readonly UiListItem[], stepMs: number): Buckets {
  const out: Buckets = { xs: [], requests: [], errors: [], cacheHit: [] };
  if (rows.length === 0) return out;
  let min = Infinity;
  let max = -Infinity;
  for (const r of rows) {
    min = Math.min(min, r.startedAt);
    max = Math.max(max, r.startedAt);
  }
  const first = Math.floor(min / stepMs) * stepMs;
  const count = Math.floor((max - first) / stepMs) + 1;
  const prompt = new Array<number>(count).fill(0);
  const cached = new Array<number>(count).fill(0);
  out.requests = new Array<number>(count).fill(0);
  out.errors = new Array<number>(count).fill(0);
  for (const r of rows) {
    const i = Math.floor((r.startedAt - first) / stepMs);
    out.requests[i]!++;
    if (failed(r)) out.errors[i]!++;
    prompt[i]! += r.promptTokens;
    cached[i]! += r.cachedTokens;
  }
  for (let i = 0; i < count; i++) {
    out.xs.push((first + i * stepMs) / 1000);
    out.cacheHit.push(prompt[i]! > 0 ? Math.round((cached[i]! / prompt[i]!) * 1000) / 10 : null);
  }
  return out;
}
