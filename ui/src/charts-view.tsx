import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { getJson, whoAmI } from './api.js';
import { Choice } from './blocks.js';
import { bucketTotals, cumulativeLines, groupColours, GROUP_BYS, TIME_AXIS, TIME_INCRS, TIME_VALUE, timeRange, type GroupBy, type TimeSeries } from './chart-data.js';
import { counted, ms, tokens, TTFT_TITLE, usd } from './format.js';
import { PERIODS, reportUrl, type Period } from './usage-data.js';

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04'];
const CHART_HEIGHT = 220;
/** A count axis steps in whole numbers (no "1.5 requests"). */
const COUNT_INCRS = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 50_000, 100_000, 200_000, 500_000, 1_000_000];
/** Below this a chart's axes crowd its lines out: a narrower box scrolls the chart sideways instead. */
const MIN_CHART_WIDTH = 320;

/** A chart's width in a box this wide (CSS pixels): all of it, never below the minimum. */
function chartWidth(boxWidth: number): number {
  return Math.max(MIN_CHART_WIDTH, Math.floor(boxWidth));
}

type Total = { requests: number; errors: number; tokens: { input: number; cached_input: number }; latency_ms: { p50: number | null; p95: number | null }; ttft_ms: { p50: number | null; p95: number | null } };

/**
 * Cost and tokens over time by model, tool, user or team; the cache hit ratio and errors
 * per time bucket; latency percentiles — over a period of the whole archive, summed by
 * the proxy per time bucket (off its event loop) rather than from the newest rows.
 */
export function ChartsView() {
  const [series, setSeries] = useState<TimeSeries | null>(null);
  const [total, setTotal] = useState<Total | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [by, setBy] = useState<GroupBy>('model');
  const [period, setPeriod] = useState<Period>('7d');
  const [hasTeams, setHasTeams] = useState(false);
  useEffect(() => {
    // The running policy's teams: without any, there is no team to split by.
    void whoAmI().then((me) => setHasTeams(Object.keys(me.teams).length > 0));
  }, []);
  useEffect(() => {
    const now = Date.now();
    setSeries(null);
    setError(null);
    getJson<TimeSeries>(reportUrl('series', by, period, now)).then(setSeries, (err: Error) => setError(err.message));
    // Latency percentiles over the same period: the usage total's.
    getJson<{ total: Total | null }>(reportUrl('usage', 'model', period, now)).then((u) => setTotal(u.total), () => setTotal(null));
  }, [by, period]);
  const choices = GROUP_BYS.filter((g) => g !== 'team' || hasTeams);
  const data = useMemo(() => {
    if (!series || series.points.length === 0) return null;
    const buckets = bucketTotals(series);
    const cost = cumulativeLines(series, (p) => p.costUsd, COLORS.length);
    const tokens = cumulativeLines(series, (p) => p.promptTokens + p.outputTokens, COLORS.length);
    return {
      buckets, cost, tokens, colours: groupColours([cost.names, tokens.names], COLORS),
      requests: buckets.requests.reduce((a, b) => a + b, 0), errors: buckets.errors.reduce((a, b) => a + b, 0),
      cached: series.points.reduce((n, p) => n + p.cachedTokens, 0), prompt: series.points.reduce((n, p) => n + p.promptTokens, 0),
    };
  }, [series]);
  const toolbar = (
    <div class="toolbar">
      <Choice id="chart-by" label="Split cost and tokens by" value={by} options={choices.map((g) => [g, g] as const)} onChange={setBy} />
      <Choice id="chart-period" label="Period" value={period} options={PERIODS} onChange={setPeriod} />
      {data && series && <span class="dim">{counted(data.requests, 'exchange')} · buckets of {span(series.step)}</span>}
    </div>
  );
  if (error) return <section class="charts">{toolbar}<p class="error">{error}</p></section>;
  if (!series) return <section class="charts">{toolbar}<p class="dim">reading the archive…</p></section>;
  if (!data) return <section class="charts">{toolbar}<p class="empty">Nothing to chart in this period.</p></section>;
  const b = data.buckets;
  const pad = series.step / 1000;
  return (
    <section class="charts">
      {toolbar}
      <Chart id="cost" title={`Cost over time by ${by} (USD, cumulative)`} xs={b.xs} series={data.cost.series} names={data.cost.names} format={(v) => usd(v)} stepped pad={pad}
        colors={data.cost.names.map((n) => data.colours.get(n)!)} />
      <Chart id="tokens" title={`Tokens over time by ${by} (prompt + output, cumulative)`} xs={b.xs} series={data.tokens.series} names={data.tokens.names} format={(v) => tokens(v)} stepped pad={pad}
        colors={data.tokens.names.map((n) => data.colours.get(n)!)} />
      <Chart id="cache" title="Cache hit ratio (cached share of prompt tokens, %)" note={`overall ${data.prompt > 0 ? ((data.cached / data.prompt) * 100).toFixed(1) : '–'}%`}
        xs={b.xs} series={[b.cacheHit]} names={['cache hit %']} format={(v) => `${v}%`} points pad={pad} />
      <Chart id="errors" title="Errors over time (per bucket)" note={`${data.errors} of ${data.requests} failed`} xs={b.xs} series={[b.requests, b.errors]} names={['requests', 'errors']}
        colors={['#94a3b8', '#dc2626']} format={(v) => String(v)} bars pad={pad} />
      <table class="kv percentiles">
        <tr><th /><th class="num">p50</th><th class="num">p95</th></tr>
        <tr><th>latency</th><td class="num">{ms(total?.latency_ms.p50)}</td><td class="num">{ms(total?.latency_ms.p95)}</td></tr>
        <tr><th title={TTFT_TITLE}>TTFT</th><td class="num">{ms(total?.ttft_ms.p50)}</td><td class="num">{ms(total?.ttft_ms.p95)}</td></tr>
      </table>
    </section>
  );
}

interface ChartProps {
  id: string;
  title: string;
  note?: string;
  xs: number[];
  series: (number | null)[][];
  names: string[];
  colors?: string[];
  format: (v: number) => string;
  /** Per-bucket counts drawn as bars. */
  bars?: boolean;
  /** Sparse values (gaps where a bucket had none) drawn with points so single ones show. */
  points?: boolean;
  /** Running totals: each value holds until the next exchange (a slope would show spend between them). */
  stepped?: boolean;
  /** Seconds either side of the x when every value has the same one (uPlot's own range would then span years). */
  pad?: number;
}

function Chart({ id, title, note, xs, series, names, colors = COLORS, format, bars, points, stepped, pad = 1 }: ChartProps) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const barPaths = bars ? uPlot.paths.bars!({ size: [0.8, 40], gap: 1 }) : stepped ? uPlot.paths.stepped!({ align: 1 }) : undefined;
    const plot = new uPlot({
      width: chartWidth(el.clientWidth || 800), height: CHART_HEIGHT,
      series: [{ label: 'time', value: TIME_VALUE }, ...names.map((n, i) => ({
        label: n, stroke: colors[i % colors.length], width: bars ? 1 : 2, spanGaps: false,
        ...(barPaths ? { paths: barPaths, ...(bars ? { fill: `${colors[i % colors.length]}99` } : {}) } : {}),
        ...(points ? { points: { show: true, size: 5 } } : {}),
        // The legend's value under the cursor, written as the axis writes it ($0.49, 12k).
        value: (_u: uPlot, v: number | null) => (v === null || v === undefined ? '–' : format(v)),
      }))],
      axes: [{ space: 70, incrs: TIME_INCRS, values: TIME_AXIS as uPlot.Axis.Values }, { size: 80, values: (_u: uPlot, values: number[]) => values.map(format), ...(bars ? { incrs: COUNT_INCRS } : {}) }],
      scales: {
        x: { time: true, range: (u: uPlot, min: number, max: number): uPlot.Range.MinMax => timeRange(u.data[0], min, max, pad) },
        // Counts start at 0, and the top is a whole number.
        ...(bars ? { y: { range: (_u: uPlot, _min: number, max: number): uPlot.Range.MinMax => [0, Math.max(1, Math.ceil(max))] } } : {}),
      },
    }, [xs, ...series] as uPlot.AlignedData, el);
    // The box follows the window (and the page's scrollbar coming and going): the chart follows the box.
    const observer = new ResizeObserver(([entry]) => {
      const width = entry?.contentRect.width ?? 0;
      // 0: the box is not laid out (a hidden tab); its chart keeps the width it had.
      if (width > 0 && chartWidth(width) !== plot.width) plot.setSize({ width: chartWidth(width), height: CHART_HEIGHT });
    });
    observer.observe(el);
    return () => {
      observer.disconnect();
      plot.destroy();
    };
  }, [xs, series, names, colors.join(), pad]);
  return <div class="chart" id={`chart-${id}`}><h2>{title}{note && <span class="dim chart-note"> · {note}</span>}</h2><div class="chart-plot" ref={box} /></div>;
}

function span(stepMs: number): string {
  const s = stepMs / 1000;
  return s < 60 ? `${s} s` : s < 3600 ? `${s / 60} min` : s < 86_400 ? `${s / 3600} h` : `${s / 86_400} d`;
}
