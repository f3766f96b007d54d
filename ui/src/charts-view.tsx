import { useEffect, useRef, useState } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';
import { getJson, type UiListItem } from './api.js';
import { tokens, usd } from './format.js';

const COLORS = ['#2563eb', '#dc2626', '#16a34a', '#9333ea', '#ea580c', '#0891b2', '#ca8a04'];

/** Cost and tokens over time by model, and latency percentiles, from the newest exchanges (up to 1000). */
export function ChartsView() {
  const [rows, setRows] = useState<UiListItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    getJson<{ exchanges: UiListItem[] }>('/ui/api/exchanges?limit=1000').then((r) => setRows(r.exchanges.slice().reverse()), (err: Error) => setError(err.message));
  }, []);
  if (error) return <p class="error">{error}</p>;
  if (!rows) return <p class="dim">loading…</p>;
  if (rows.length === 0) return <p class="empty">Nothing to chart yet.</p>;
  const models = [...new Set(rows.map((r) => r.model ?? '(none)'))].slice(0, COLORS.length);
  const xs = rows.map((r) => r.startedAt / 1000);
  const cumulative = (pick: (r: UiListItem) => number) => models.map((m) => {
    let sum = 0;
    return rows.map((r) => ((r.model ?? '(none)') === m ? (sum += pick(r)) : sum));
  });
  const latencies = rows.map((r) => r.latencyMs).filter((v): v is number => v !== null);
  const ttfts = rows.map((r) => r.ttftMs).filter((v): v is number => v !== null);
  return (
    <section class="charts">
      <Chart title="Cost over time by model (USD, cumulative)" xs={xs} series={cumulative((r) => r.costUsd ?? 0)} names={models} format={(v) => usd(v)} />
      <Chart title="Tokens over time by model (prompt + output, cumulative)" xs={xs} series={cumulative((r) => r.promptTokens + (r.outputTokens ?? 0))} names={models} format={(v) => tokens(v)} />
      <table class="kv percentiles">
        <tr><th /><th>p50</th><th>p95</th></tr>
        <tr><th>latency</th><td>{pct(latencies, 0.5)} ms</td><td>{pct(latencies, 0.95)} ms</td></tr>
        <tr><th>TTFT</th><td>{pct(ttfts, 0.5)} ms</td><td>{pct(ttfts, 0.95)} ms</td></tr>
      </table>
    </section>
  );
}

function Chart({ title, xs, series, names, format }: { title: string; xs: number[]; series: number[][]; names: string[]; format: (v: number) => string }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    if (!box.current) return;
    const plot = new uPlot({
      width: Math.min(960, box.current.clientWidth || 800), height: 260,
      series: [{}, ...names.map((n, i) => ({ label: n, stroke: COLORS[i], width: 2 }))],
      axes: [{}, { size: 80, values: (_u: uPlot, values: number[]) => values.map(format) }],
    }, [xs, ...series], box.current);
    return () => plot.destroy();
  }, [xs, series, names]);
  return <div class="chart"><h2>{title}</h2><div ref={box} /></div>;
}

function pct(values: number[], p: number): string {
  if (values.length === 0) return '–';
  const sorted = [...values].sort((a, b) => a - b);
  return String(Math.round(sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))]!));
}
