import { useEffect, useMemo, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { getJson, type UiListItem } from './api.js';
import { bucketStep, colorsFor, cumulativeBy, failed, GROUP_BYS, timeBuckets, timeRange, type GroupBy, type Teams } from './chart-data.js';
import { tokens, usd } from './format.js';

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04'];

/**
 * Cost and tokens over time by model, tool, user or team; the cache hit ratio and errors
 * per time bucket; latency percentiles. From the newest exchanges (up to 1000).
 */
export function ChartsView() {
  const [rows, setRows] = useState<UiListItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [by, setBy] = useState<GroupBy>('model');
  const [teams, setTeams] = useState<Teams>({});
  useEffect(() => {
    getJson<{ exchanges: UiListItem[] }>('/ui/api/exchanges?limit=1000').then((r) => setRows(r.exchanges.slice().reverse()), (err: Error) => setError(err.message));
    // The running policy's teams: without any, there is no team to split by.
    getJson<{ teams?: Teams }>('/ui/api/me').then((me) => setTeams(me.teams ?? {}), () => setTeams({}));
  }, []);
  const choices = GROUP_BYS.filter((g) => g !== 'team' || Object.keys(teams).length > 0);
  const data = useMemo(() => {
    if (!rows || rows.length === 0) return null;
    const span = rows.at(-1)!.startedAt - rows[0]!.startedAt;
    const step = bucketStep(span);
    return {
      xs: rows.map((r) => r.startedAt / 1000),
      cost: cumulativeBy(rows, by, (r) => r.costUsd ?? 0, COLORS.length, teams),
      tokens: cumulativeBy(rows, by, (r) => r.promptTokens + (r.outputTokens ?? 0), COLORS.length, teams),
      step, buckets: timeBuckets(rows, step),
      errors: rows.filter(failed).length,
      cached: rows.reduce((n, r) => n + r.cachedTokens, 0), prompt: rows.reduce((n, r) => n + r.promptTokens, 0),
    };
  }, [rows, by, teams]);
  if (error) return <p class="error">{error}</p>;
  if (!rows) return <p class="dim">loading…</p>;
  if (!data) return <p class="empty">Nothing to chart yet.</p>;
  const latencies = rows.map((r) => r.latencyMs).filter((v): v is number => v !== null);
  const ttfts = rows.map((r) => r.ttftMs).filter((v): v is number => v !== null);
  const b = data.buckets;
  return (
    <section class="charts">
      <div class="toolbar">
        <label>Split cost and tokens by{' '}
          <select id="chart-by" value={by} onChange={(e) => setBy((e.target as HTMLSelectElement).value as GroupBy)}>
            {choices.map((g) => <option key={g} value={g}>{g}</option>)}
          </select>
        </label>
        <span class="dim">{rows.length} newest exchanges · buckets of {span(data.step)}</span>
      </div>
      <Chart id="cost" title={`Cost over time by ${by} (USD, cumulative)`} xs={data.xs} series={data.cost.series} names={data.cost.names} format={(v) => usd(v)} stepped />
      <Chart id="tokens" title={`Tokens over time by ${by} (prompt + output, cumulative)`} xs={data.xs} series={data.tokens.series} names={data.tokens.names} format={(v) => tokens(v)} stepped
        colors={colorsFor(data.tokens.names, data.cost.names, COLORS)} />
      <Chart id="cache" title="Cache hit ratio (cached share of prompt tokens, %)" note={`overall ${data.prompt > 0 ? ((data.cached / data.prompt) * 100).toFixed(1) : '–'}%`}
        xs={b.xs} series={[b.cacheHit]} names={['cache hit %']} format={(v) => `${v}%`} points pad={data.step / 1000} />
      <Chart id="errors" title="Errors over time (per bucket)" note={`${data.errors} of ${rows.length} failed`} xs={b.xs} series={[b.requests, b.errors]} names={['requests', 'errors']}
        colors={['#94a3b8', '#dc2626']} format={(v) => String(v)} bars pad={data.step / 1000} />
      <table class="kv percentiles">
        <tr><th /><th>p50</th><th>p95</th></tr>
        <tr><th>latency</th><td>{pct(latencies, 0.5)} ms</td><td>{pct(latencies, 0.95)} ms</td></tr>
        <tr><th>TTFT</th><td>{pct(ttfts, 0.5)} ms</td><td>{pct(ttfts, 0.95)} ms</td></tr>
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
    if (!box.current) return;
    const barPaths = bars ? uPlot.paths.bars!({ size: [0.8, 40], gap: 1 }) : stepped ? uPlot.paths.stepped!({ align: 1 }) : undefined;
    const plot = new uPlot({
      width: Math.min(960, box.current.clientWidth || 800), height: 220,
      series: [{}, ...names.map((n, i) => ({
        label: n, stroke: colors[i % colors.length], width: bars ? 1 : 2, spanGaps: false,
        ...(barPaths ? { paths: barPaths, ...(bars ? { fill: `${colors[i % colors.length]}99` } : {}) } : {}),
        ...(points ? { points: { show: true, size: 5 } } : {}),
      }))],
      axes: [{ space: 70 }, { size: 80, values: (_u: uPlot, values: number[]) => values.map(format) }],
      scales: { x: { time: true, range: (u: uPlot, min: number, max: number): uPlot.Range.MinMax => timeRange(u.data[0], min, max, pad) } },
    }, [xs, ...series] as uPlot.AlignedData, box.current);
    return () => plot.destroy();
  }, [xs, series, names, colors.join(), pad]);
  return <div class="chart" id={`chart-${id}`}><h2>{title}{note && <span class="dim chart-note"> · {note}</span>}</h2><div ref={box} /></div>;
}

function span(stepMs: number): string {
  const s = stepMs / 1000;
  return s < 60 ? `${s} s` : s < 3600 ? `${s / 60} min` : s < 86_400 ? `${s / 3600} h` : `${s / 86_400} d`;
}

function pct(values: number[], p: number): string {
  if (values.length === 0) return '–';
  const sorted = [...values].sort((a, b) => a - b);
  return String(Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!));
}
