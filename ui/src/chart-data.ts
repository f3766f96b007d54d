import type { SeriesPoint, TimeSeries } from '../../src/archive/time-series.js';

export type { SeriesPoint, TimeSeries };

/** What the cost and token charts split their lines by. */
export type GroupBy = 'model' | 'tool' | 'user' | 'team';
/** `team` only when the running policy names teams (`/ui/api/me`). */
export const GROUP_BYS: readonly GroupBy[] = ['model', 'tool', 'user', 'team'];

export const NONE = '(none)';
export const OTHER = '(other)';

/** Every bucket start from the first point's to the last's, `step` apart, empty ones included (epoch ms). Pure. */
export function bucketStarts(series: TimeSeries): number[] {
  const { step, points } = series;
  if (points.length === 0 || step <= 0) return [];
  const first = points[0]!.at;
  const last = points[points.length - 1]!.at;
  return Array.from({ length: Math.round((last - first) / step) + 1 }, (_, i) => first + i * step);
}

/**
 * One cumulative line per group over the buckets (the server's time series, oldest
 * first): the groups with the largest totals get their own line, the rest are summed
 * into "(other)", so a chart stays readable with many models or users. Pure.
 */
export function cumulativeLines(series: TimeSeries, pick: (p: SeriesPoint) => number, maxLines: number): { names: string[]; series: number[][] } {
  const starts = bucketStarts(series);
  const keyOf = (p: SeriesPoint): string => p.key ?? NONE;
  const totals = new Map<string, number>();
  for (const p of series.points) totals.set(keyOf(p), (totals.get(keyOf(p)) ?? 0) + pick(p));
  const ranked = [...totals.keys()].sort((a, b) => totals.get(b)! - totals.get(a)! || a.localeCompare(b));
  const own = ranked.length <= maxLines ? ranked : ranked.slice(0, maxLines - 1);
  const names = ranked.length <= maxLines ? own : [...own, OTHER];
  const index = new Map(own.map((n, i) => [n, i]));
  const perBucket = names.map(() => new Array<number>(starts.length).fill(0));
  for (const p of series.points) {
    const bucket = Math.round((p.at - (starts[0] ?? 0)) / series.step);
    perBucket[index.get(keyOf(p)) ?? names.length - 1]![bucket]! += pick(p);
  }
  return { names, series: perBucket.map((values) => {
    let sum = 0;
    return values.map((v) => (sum += v));
  }) };
}

/**
 * A colour per group, the same in every chart that shows it: the cost chart ranks its
 * groups by cost and the token chart by tokens, so by position alone a model would change
 * colour between them, and groups in one chart only would take colours already in use.
 * `charts` are each chart's group names; every group of them gets its own colour (the
 * palette's, then generated hues past it), the first chart's groups first. Pure.
 */
export function groupColours(charts: readonly (readonly string[])[], palette: readonly string[]): Map<string, string> {
  const colours = new Map<string, string>();
  for (const names of charts) {
    for (const name of names) {
      if (colours.has(name)) continue;
      const i = colours.size;
      // Past the palette: hues spread by the golden angle, so neighbours differ.
      colours.set(name, palette[i] ?? `hsl(${Math.round((i * 137.5) % 360)}, 65%, 42%)`);
    }
  }
  return colours;
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

/** Requests, errors and the cache hit ratio per time bucket, empty buckets included. Pure. */
export function bucketTotals(series: TimeSeries): Buckets {
  const starts = bucketStarts(series);
  const requests = new Array<number>(starts.length).fill(0);
  const errors = new Array<number>(starts.length).fill(0);
  const prompt = new Array<number>(starts.length).fill(0);
  const cached = new Array<number>(starts.length).fill(0);
  for (const p of series.points) {
    const i = Math.round((p.at - starts[0]!) / series.step);
    requests[i]! += p.requests;
    errors[i]! += p.errors;
    prompt[i]! += p.promptTokens;
    cached[i]! += p.cachedTokens;
  }
  return {
    xs: starts.map((at) => at / 1000), requests, errors,
    cacheHit: prompt.map((n, i) => (n > 0 ? Math.round((cached[i]! / n) * 1000) / 10 : null)),
  };
}

/**
 * The time axis's labels as the rest of the UI writes times: 24-hour clock, dates year
 * first (uPlot's own are US-style, "12/7/26 9:31pm", beside "2026-12-07 21:31" on every
 * other page). uPlot's table: [tick step in s, tick label, then on the first tick and where
 * the year, month, day, hour, minute or second changes, what is added under it, mode 1].
 */
export const TIME_AXIS: (string | number | null)[][] = [
  [3600 * 24 * 365, '{YYYY}', null, null, null, null, null, null, 1],
  [3600 * 24 * 28, '{YYYY}-{MM}', null, null, null, null, null, null, 1],
  [3600 * 24, '{MM}-{DD}', '\n{YYYY}', null, null, null, null, null, 1],
  [3600, '{HH}:{mm}', '\n{YYYY}-{MM}-{DD}', null, '\n{MM}-{DD}', null, null, null, 1],
  [60, '{HH}:{mm}', '\n{YYYY}-{MM}-{DD}', null, '\n{MM}-{DD}', null, null, null, 1],
  [1, ':{ss}', '\n{YYYY}-{MM}-{DD} {HH}:{mm}', null, '\n{MM}-{DD} {HH}:{mm}', null, '\n{HH}:{mm}', null, 1],
  [0.001, ':{ss}.{fff}', '\n{YYYY}-{MM}-{DD} {HH}:{mm}', null, '\n{MM}-{DD} {HH}:{mm}', null, '\n{HH}:{mm}', null, 1],
];

const MINUTE = 60;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/**
 * The steps the time axis may tick at, in seconds: uPlot's own from one second up. Its own
 * go down to a millisecond, so a chart over a second or two (all its exchanges in one or
 * two buckets) ticked every 0.1 s, ":14.100 :14.200 …"; a bucket is a second at least
 * (bucketStep), so nothing finer is there to read.
 */
export const TIME_INCRS: number[] = [
  1, 5, 10, 15, 30,
  MINUTE, 5 * MINUTE, 10 * MINUTE, 15 * MINUTE, 30 * MINUTE,
  HOUR, 2 * HOUR, 3 * HOUR, 4 * HOUR, 6 * HOUR, 8 * HOUR, 12 * HOUR,
  DAY, 2 * DAY, 3 * DAY, 4 * DAY, 5 * DAY, 6 * DAY, 7 * DAY, 8 * DAY, 9 * DAY, 10 * DAY, 15 * DAY,
  30 * DAY, 60 * DAY, 90 * DAY, 120 * DAY, 180 * DAY,
  365 * DAY, 2 * 365 * DAY, 5 * 365 * DAY, 10 * 365 * DAY,
];

/** The legend's time under the cursor, as the list and the pages write a time. */
export const TIME_VALUE = '{YYYY}-{MM}-{DD} {HH}:{mm}:{ss}';
