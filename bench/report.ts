import { existsSync, readFileSync } from 'node:fs';
import type { BenchResults, Cell, SystemResult } from './results.js';
import { ok } from './results.js';
import { verdictOf, type WindowVerdict } from './policy-overhead.js';

// ---------- formatting ----------

function ms(v: number | undefined): string {
  if (v === undefined || !Number.isFinite(v)) return '–';
  const a = Math.abs(v);
  return a < 10 ? v.toFixed(2) : a < 100 ? v.toFixed(1) : v.toFixed(0);
}
function signed(v: number): string {
  return `${v >= 0 ? '+' : '−'}${ms(Math.abs(v))}`;
}
function int(v: number | undefined): string {
  return v === undefined || !Number.isFinite(v) ? '–' : Math.round(v).toLocaleString('en-US');
}
function mb(bytes: number | undefined): string {
  return bytes === undefined || !Number.isFinite(bytes) ? '–' : `${(bytes / 1e6).toFixed(bytes < 1e8 ? 1 : 0)} MB`;
}
function ratio(v: number, base: number | undefined): string {
  return base && Number.isFinite(base) && base > 0 ? `${(v / base).toFixed(2)}×` : '';
}
function why(cell: Cell<object> | undefined, row?: SystemResult): string {
  if (row?.na) return row.na.startsWith('n/a') ? row.na : `n/a (${row.na})`;
  if (!cell) return '–';
  if ('na' in cell) return `n/a (${cell.na})`;
  if ('error' in cell) return `error: ${cell.error}`;
  return '';
}

/** "abs (+added, ratio×)" for a latency against the direct figure. */
function latencyCell(v: number | undefined, base: number | undefined, isBase: boolean): string {
  if (v === undefined) return '–';
  if (isBase || base === undefined) return ms(v);
  return `${ms(v)} (${signed(v - base)}, ${ratio(v, base)})`;
}

function table(head: string[], rows: string[][], align?: string[]): string {
  const sep = head.map((_, i) => align?.[i] ?? (i === 0 ? '---' : '---:'));
  return [`| ${head.join(' | ')} |`, `| ${sep.join(' | ')} |`, ...rows.map((r) => `| ${r.join(' | ')} |`)].join('\n');
}

const PHASE_SYSTEM: Record<string, string> = { direct: 'direct', llmtap: 'llmtap', tunnel: 'tunnel', mitmproxy: 'mitmproxy', hmp: 'http-mitm-proxy', policy: 'policy', cachehit: 'cachehit' };

/** Mean CPU other processes used during this system's phases (% of one core). */
function otherLoad(r: BenchResults, s: SystemResult): string {
  const phases = r.noise.filter((n) => n.system === PHASE_SYSTEM[s.id]);
  if (phases.length === 0) return '';
  const mean = phases.reduce((a, n) => a + n.otherCpuPct, 0) / phases.length;
  return `${mean.toFixed(0)} %`;
}

// ---------- targets ----------

export interface TargetRow {
  target: string;
  figure: string;
  met: boolean | undefined;
}

export function evaluateTargets(r: BenchResults): TargetRow[] {
  const d = r.systems.find((s) => s.id === 'direct')!;
  const l = r.systems.find((s) => s.id === 'llmtap')!;
  const t = r.systems.find((s) => s.id === 'tunnel')!;
  const rows: TargetRow[] = [];
  const add = (target: string, figure: string | undefined, met: boolean | undefined): void => void rows.push({ target, figure: figure ?? 'not measured', met: figure ? met : undefined });
  const dc1 = ok(d.c1), lc1 = ok(l.c1);
  add('Added latency p50 ≤ 0.5 ms (c=1)', dc1 && lc1 ? `${signed(lc1.latency.p50 - dc1.latency.p50)} ms` : undefined, dc1 && lc1 ? lc1.latency.p50 - dc1.latency.p50 <= 0.5 : undefined);
  add('Added latency p99 ≤ 2 ms (c=1)', dc1 && lc1 ? `${signed(lc1.latency.p99 - dc1.latency.p99)} ms` : undefined, dc1 && lc1 ? lc1.latency.p99 - dc1.latency.p99 <= 2 : undefined);
  const d16 = ok(d.c16), l16 = ok(l.c16);
  add('req/s at c=16 with recording ≥ 65 % of direct', d16 && l16 ? `${int(l16.rps)} vs ${int(d16.rps)} = ${((l16.rps / d16.rps) * 100).toFixed(0)} %` : undefined, d16 && l16 ? l16.rps / d16.rps >= 0.65 : undefined);
  const dsse = ok(d.sse), lsse = ok(l.sse);
  add('SSE added delay per event p99 ≤ 1 ms', dsse && lsse ? `${signed(lsse.delay.p99 - dsse.delay.p99)} ms (p99 ${ms(lsse.delay.p99)} vs ${ms(dsse.delay.p99)})` : undefined, dsse && lsse ? lsse.delay.p99 - dsse.delay.p99 <= 1 : undefined);
  add('TTFT unchanged within noise (added p50 ≤ 1 ms)', dsse && lsse ? `${signed(lsse.ttft.p50 - dsse.ttft.p50)} ms (p50 ${ms(lsse.ttft.p50)} vs ${ms(dsse.ttft.p50)})` : undefined, dsse && lsse ? lsse.ttft.p50 - dsse.ttft.p50 <= 1 : undefined);
  const lh = ok(l.hosts);
  add('First request to a new intercepted host ≤ 10 ms (p50 over all new hosts)', lh ? `p50 ${ms(lh.perHost.p50)} ms, p99 ${ms(lh.perHost.p99)} ms` : undefined, lh ? lh.perHost.p50 <= 10 : undefined);
  add('No key generation after start (distinct public keys in the leaves served to new hosts)', lh?.certificates ? `${int(lh.serverKeys)} key across ${int(lh.certificates)} leaf certificates` : undefined, lh?.certificates ? lh.serverKeys === 1 : undefined);
  const tt = ok(t.tunnel);
  const base = tt?.baselineMbps ?? ok(r.pipe)?.mbps;
  const cpuNote = tt?.cpuMsPerGB && tt.baselineCpuMsPerGB ? `; CPU per GB ${int(tt.cpuMsPerGB)} vs ${int(tt.baselineCpuMsPerGB)} ms (${((tt.baselineCpuMsPerGB / tt.cpuMsPerGB) * 100).toFixed(0)} % of the pipe's efficiency)` : '';
  add('Tunnel throughput ≥ 90 % of a plain Node socket pipe', tt && base ? `${int(tt.mbps)} vs ${int(base)} MB/s = ${((tt.mbps / base) * 100).toFixed(0)} % (medians, measured alternately)${cpuNote}` : undefined, tt && base ? tt.mbps / base >= 0.9 : undefined);
  const ls = ok(l.streams);
  const n = r.params.streams.count;
  add(`${int(n)} concurrent SSE streams all flowing`, ls ? `${int(ls.maxFlowing)} of ${int(n)} got their first event within ${ms(r.params.streams.rampCapMs / 1000)} s` : undefined, ls ? ls.allFlowing : undefined);
  add(`Peak RSS with ${int(n)} open streams ≤ 250 MB`, ls ? `${mb(ls.peakRss)} (baseline ${mb(ls.baselineRss)})` : undefined, ls ? ls.peakRss <= 250e6 : undefined);
  const last = ls?.afterRss.at(-1);
  add('RSS back near baseline after the streams close (≤ baseline + 25 %)', ls && last ? `${mb(last.rss)} ${ms(last.ms / 1000)} s after, baseline ${mb(ls.baselineRss)}` : undefined, ls && last ? last.rss <= ls.baselineRss * 1.25 : undefined);
  const ip = ok(r.inproc);
  const encodeMax = ip ? Math.max(ip.json.recorder.encodeMaxMs ?? 0, ip.sse.recorder.encodeMaxMs ?? 0) : 0;
  const control = ip?.json.control && ip.sse.control ? `; control (${ms(ip.json.control.workMs * 1000)} µs of fixed work, timed alike): ${ip.json.control.over1ms + ip.sse.control.over1ms} of ${int(ip.json.control.runs + ip.sse.control.runs)} > 1 ms, max ${ms(Math.max(ip.json.control.max, ip.sse.control.max))} ms` : '';
  add('Recorder never blocks the event loop > 1 ms per batch', ip ? `max hand-off ${ms(ip.json.recorder.max)} ms (JSON load), ${ms(ip.sse.recorder.max)} ms (SSE); ${ip.json.recorder.over1ms + ip.sse.recorder.over1ms} of ${ip.json.recorder.batches + ip.sse.recorder.batches} hand-offs > 1 ms; encoding one record: max ${ms(encodeMax)} ms${control}` : undefined, ip ? Math.max(ip.json.recorder.max, ip.sse.recorder.max, encodeMax) <= 1 : undefined);
  const po = ok(r.policyOverhead);
  const list = (xs: number[], f: (x: number) => string): string => xs.map(f).join(' / ');
  // Judged again from the windows (pure), so a re-render of older results applies today's rule.
  const judged = (w: { plain: number[]; policy: number[] } | undefined, unit: string, f: (x: number) => string): string | undefined => {
    const v = w && verdictOf(w.plain, w.policy);
    return v && `${v.medianGap >= 0 ? '+' : ''}${f(v.medianGap)} ${unit} median, plain's own spread ${f(v.plainSpread)} ${unit} (plain ${list(v.plain, f)}; policy ${list(v.policy, f)}; one-sided Mann-Whitney p ${v.higherP.toFixed(3)})${v.verdict === 'too noisy' ? `; too noisy to judge (${v.tooNoisy ? 'plain alone varied by over 10 %' : 'above plain\'s highest window, not beyond chance'})` : ''}`;
  };
  const verdict = (w: { plain: number[]; policy: number[] } | undefined): boolean | undefined => {
    const v: WindowVerdict | undefined = w && verdictOf(w.plain, w.policy);
    return v && v.verdict !== 'too noisy' ? v.verdict === 'met' : undefined;
  };
  const lat = po?.latencyP50Ms;
  add('10-rule policy adds no measurable latency (c=1 p50; windows in turns; met: policy median ≤ plain\'s highest; not met: higher beyond chance)', lat && `${judged(lat, 'ms', ms)}; p99 plain ${list(po!.latencyP99Ms.plain, ms)}, policy ${list(po!.latencyP99Ms.policy, ms)} ms`, verdict(lat));
  add('10-rule policy within noise of plain recording (c=16 CPU per request; windows in turns; met: policy median ≤ plain\'s highest; not met: higher beyond chance)', po && `${judged(po.cpuUs, 'µs', int)}; req/s plain ${list(po.rps.plain, int)}, policy ${list(po.rps.policy, int)}`, verdict(po?.cpuUs));
  return rows;
}

// ---------- markdown ----------

export function renderTables(r: BenchResults): string {
  const P = r.params;
  const d = r.systems.find((s) => s.id === 'direct');
  const dc1 = ok(d?.c1), d16 = ok(d?.c16), d64 = ok(d?.c64), dsse = ok(d?.sse), dh = ok(d?.hosts);
  const out: string[] = [];

  out.push(`### Latency and throughput (non-streaming chat completion, keep-alive)`, '');
  out.push('Latency in ms: absolute (added vs direct, ratio to direct). req/s: absolute (ratio to direct). CPU: the proxy process during the measured window (% of one core, CPU time per request, and the request rate one fully busy core would sustain at that cost). Each closed-loop run is preceded by a warm-up of at least 5 requests per connection (its length is shown when it took over 3 s: that is the cost of growing the proxy\'s upstream pool).', '');
  out.push(table(
    ['system', 'c=1 p50', 'c=1 p99', 'c=16 p50', 'c=16 p99', 'req/s c=16', 'req/s c=64', 'proxy CPU c=16', 'upstream conns opened c=16', 'other load'],
    r.systems.map((s) => {
      const isD = s.id === 'direct';
      const c1 = ok(s.c1), c16 = ok(s.c16), c64 = ok(s.c64);
      const na = (cell: Cell<object> | undefined): string => why(cell, s) || '–';
      return [
        `**${s.label}**`,
        c1 ? latencyCell(c1.latency.p50, dc1?.latency.p50, isD) : na(s.c1),
        c1 ? latencyCell(c1.latency.p99, dc1?.latency.p99, isD) : na(s.c1),
        c16 ? latencyCell(c16.latency.p50, d16?.latency.p50, isD) : na(s.c16),
        c16 ? latencyCell(c16.latency.p99, d16?.latency.p99, isD) : na(s.c16),
        c16 ? `${int(c16.rps)}${isD || !d16 ? '' : ` (${ratio(c16.rps, d16.rps)})`}` : na(s.c16),
        c64 ? `${int(c64.rps)}${isD || !d64 ? '' : ` (${ratio(c64.rps, d64.rps)})`}${c64.warmupMs > 3000 ? `; warm-up took ${ms(c64.warmupMs / 1000)} s` : ''}` : na(s.c64),
        c16 && c16.proxyCpuPct !== undefined && c16.proxyCpuUsPerReq ? `${c16.proxyCpuPct.toFixed(0)} % (${int(c16.proxyCpuUsPerReq)} µs/req ≈ ${int(1e6 / c16.proxyCpuUsPerReq)} req/s per core)` : s.na ? '' : '–',
        c16 ? int(c16.upstreamConnsOpened) : '',
        otherLoad(r, s),
      ];
    }),
  ));
  out.push('');

  out.push(`### Streaming (SSE: ${P.sse.events} events ${P.sse.gapMs} ms apart, ${P.sse.streams} streams, ${P.sse.concurrency} at a time)`, '');
  out.push('Per-event delay = client receive time − the fake provider\'s send time stamped in the event (same CLOCK_MONOTONIC). TTFT = request start → first event.', '');
  out.push(table(
    ['system', 'delay/event p50', 'delay/event p99', 'delay/event max', 'TTFT p50', 'TTFT p99'],
    r.systems.map((s) => {
      const v = ok(s.sse);
      const isD = s.id === 'direct';
      if (!v) return [`**${s.label}**`, why(s.sse, s) || '–', '', '', '', ''];
      return [
        `**${s.label}**`,
        latencyCell(v.delay.p50, dsse?.delay.p50, isD), latencyCell(v.delay.p99, dsse?.delay.p99, isD), ms(v.delay.max),
        latencyCell(v.ttft.p50, dsse?.ttft.p50, isD), latencyCell(v.ttft.p99, dsse?.ttft.p99, isD),
      ];
    }),
  ));
  out.push('');

  const pipe = ok(r.pipe);
  out.push(`### New hosts, tunnel throughput, memory`, '');
  out.push(`New host: a fresh connection (CONNECT + TLS, the proxy mints a leaf) and one request, for each of ${int(P.hosts.count)} distinct names in a row; the client also counts the distinct public keys in the certificates it was served. Tunnel: ${int(P.tunnelBytes / 2 ** 20)} MiB of raw bytes downstream, MB/s (10^6 B/s), median of runs alternating with a plain Node socket pipe. RSS: the proxy process with ${int(P.streams.count)} concurrent SSE streams open (flowing = got their first event).`, '');
  const pipeRow = pipe ? [`**plain Node socket pipe** (baseline)`, '', '', '', `${int(pipe.mbps)} (alone, at the start)`, '', '', '', ''] : undefined;
  out.push(table(
    ['system', 'new host p50 ms', 'new host p99 ms', `${int(P.hosts.count)} new hosts total`, 'tunnel MB/s', 'RSS idle', 'RSS before streams', `peak RSS, ${int(P.streams.count)} streams (flowing)`, 'RSS after close'],
    [
      ...r.systems.map((s) => {
        const h = ok(s.hosts), t = ok(s.tunnel), st = ok(s.streams);
        const isD = s.id === 'direct';
        const keys = h?.certificates ? `; ${int(h.serverKeys)} server key${h.serverKeys === 1 ? '' : 's'} across ${int(h.certificates)} certificates` : '';
        const hostsTotal = h ? (h.capped ? `${ms(h.totalMs / 1000)} s for ${int(h.done)} (≈ ${ms((h.totalMs / h.done) * h.wanted / 1000)} s extrapolated)${keys}` : `${ms(h.totalMs / 1000)} s${keys}`) : why(s.hosts, s) || '–';
        return [
          `**${s.label}**`,
          h ? latencyCell(h.perHost.p50, dh?.perHost.p50, isD) : why(s.hosts, s) || '–',
          h ? latencyCell(h.perHost.p99, dh?.perHost.p99, isD) : '',
          hostsTotal,
          t ? `${int(t.mbps)}${t.baselineMbps ? ` (${((t.mbps / t.baselineMbps) * 100).toFixed(0)} % of the pipe's ${int(t.baselineMbps)} measured alongside)` : ''}${t.cpuMsPerGB && t.baselineCpuMsPerGB ? `; CPU ${int(t.cpuMsPerGB)} ms/GB vs pipe ${int(t.baselineCpuMsPerGB)}` : ''}` : why(s.tunnel, s) || '–',
          s.idleRss ? mb(s.idleRss) : '',
          st ? mb(st.baselineRss) : '',
          st ? `${mb(st.peakRss)} (${int(st.maxFlowing)} flowing)` : why(s.streams, s) || '–',
          st ? st.afterRss.map((a) => `${mb(a.rss)} @${ms(a.ms / 1000)} s`).join(', ') : '',
        ];
      }),
      ...(pipeRow ? [pipeRow] : []),
    ],
  ));
  out.push('');

  out.push(`### llmtap only: archive and event loop`, '');
  const a = ok(r.archive), ip = ok(r.inproc);
  const lines: string[][] = [];
  if (a) {
    lines.push([`archive bytes per JSON exchange (${int(a.json.n)} exchanges, ${int(a.json.rows)} rows)`, `${int(a.json.checkpointedPerExchange)} B checkpointed; ${int(a.json.runningPerExchange)} B as llmtap.db + wal while running`]);
    lines.push([`archive bytes per SSE exchange (${int(a.sse.n)} × 20 events, ${int(a.sse.rows)} rows)`, `${int(a.sse.checkpointedPerExchange)} B checkpointed; ${int(a.sse.runningPerExchange)} B as llmtap.db + wal while running`]);
  } else lines.push(['archive bytes per exchange', why(r.archive) || 'not measured']);
  lines.push(['archive bytes for a 100-turn agent session', 'n/a (until compact storage exists)']);
  if (ip) {
    for (const [name, w] of [['c=16 JSON load', ip.json], ['SSE load', ip.sse]] as const) {
      lines.push([`event-loop delay under ${name} (monitorEventLoopDelay, 1 ms resolution)`, `p50 ${ms(w.eventLoopDelayMs.p50)} ms, p99 ${ms(w.eventLoopDelayMs.p99)} ms, max ${ms(w.eventLoopDelayMs.max)} ms; loop utilisation ${(w.eventLoopUtilization * 100).toFixed(0)} %${'rps' in w ? `; ${int(w.rps)} req/s` : ''}${w.gc ? `; GC: ${w.gc.count} pauses, ${ms(w.gc.totalMs)} ms in all, longest ${ms(w.gc.maxMs)} ms` : ''}`]);
      const rec = w.recorder;
      lines.push([`recorder hand-offs to the writer thread under ${name} (wall time on the event loop)`, `${int(rec.batches)} batches, ${int(rec.rows)} rows (≤ ${rec.maxRowsPerBatch} per batch); p50 ${ms(rec.p50)} ms, p99 ${ms(rec.p99)} ms, max ${ms(rec.max)} ms, ${ms(rec.totalMs)} ms in all; ${rec.over1ms} over 1 ms${rec.over1msWithGc !== undefined && rec.over1ms > 0 ? ` (${rec.over1msWithGc} of them with a GC pause inside)` : ''}; lost ${w.stats.lost}`]);
      const c = w.control;
      if (c && c.runs > 0) lines.push([`control under ${name}: ${ms(c.workMs * 1000)} µs of fixed busy work on the same loop every 10 ms, timed like a hand-off`, `${int(c.runs)} runs; p50 ${ms(c.p50)} ms, p99 ${ms(c.p99)} ms, max ${ms(c.max)} ms; ${c.over1ms} over 1 ms`]);
      if (rec.encodeTotalMs !== undefined && rec.rows > 0) lines.push([`recorder encoding each record as it is recorded, under ${name} (event loop)`, `${ms((rec.encodeTotalMs / rec.rows) * 1000)} µs per record on average, longest ${ms(rec.encodeMaxMs)} ms`]);
    }
  } else lines.push(['event loop / recorder', why(r.inproc) || 'not measured']);
  out.push(table(['figure', 'value'], lines, ['---', '---']));
  out.push('');

  out.push('### Targets (llmtap intercept + record unless the row says otherwise)', '');
  out.push(table(['target', 'measured', 'met?'], evaluateTargets(r).map((t) => [t.target, t.figure, t.met === undefined ? '–' : t.met ? '**met**' : '**not met**']), ['---', '---', '---']));
  out.push('');
  return out.join('\n');
}

export function renderMarkdown(r: BenchResults): string {
  const m = r.machine;
  const P = r.params;
  return `# Benchmarks

Generated by \`npm run bench\` (${P.quick ? '`--quick`' : 'full run'}) on ${m.date.slice(0, 10)}. Do not edit by hand: re-run the bench.

![latency and throughput per system](benchmarks.svg)

**Machine:** ${m.nproc} cores (${m.cpu}), ${m.memoryGiB.toFixed(0)} GiB RAM, Linux ${m.kernel}.
**Software:** Node ${m.node}, undici ${m.undici}, llmtap ${m.llmtap}, mitmproxy ${m.mitmproxy}, http-mitm-proxy ${m.httpMitmProxy}.

Everything runs on loopback on this one machine: the fake provider, the load generator and the proxy
under test are separate processes **sharing the same ${m.nproc} cores**, so a proxy's own CPU use also
slows the fake provider and the load generator. Treat ratios between systems as the meaningful part.
${noiseSummary(r)}

${renderTables(r)}
${readAnalysis()}
## Running it

\`\`\`
npm run bench                 # full run (≈ 8–10 min), rewrites docs/benchmarks.md and docs/benchmarks.svg
npm run bench -- --quick      # ≈ 1–2 min smoke pass; writes bench/out/ instead of docs/
npm run bench -- --only llmtap,tunnel   # a subset (direct, llmtap, archive, tunnel, mitmproxy, hmp, inproc); bench/out/
npm run bench -- --profile    # CPU profiles of llmtap (steady-state c=16/c=64/SSE, new hosts) → bench/out/profile.md
npm run bench -- --keep       # keep the temp dir (proxy logs, archives) and print its path
\`\`\`

Not part of \`npm test\`. Needs \`mitmdump\` (the bench runs \`apt-get install -y mitmproxy\` when it is missing; the row
says n/a with the reason if that fails). Every process it starts is killed when it ends, on failure too.

## How it is measured

- **Fake provider** (\`bench/fake-upstream.ts\`, its own process): HTTPS with keep-alive; \`POST /v1/chat/completions\`
  answers a ~400-byte JSON completion, or with \`"stream": true\` an OpenAI-style SSE stream of N events a fixed gap
  apart, each event stamped with its send time on CLOCK_MONOTONIC (shared by every process on the machine).
  One certificate covers every name used (api.openai.com, \`*.bench.test\`, \`*.tunnel.test\`, …), so the fake never
  mints certificates and the new-host figure is the proxy's own cost. A raw TCP "blaster" port serves the tunnel test.
- **Load generator** (\`bench/loadgen.ts\`, its own process): undici. Direct = an \`Agent\` that connects every name to
  the fake (SNI and Host unchanged); through a proxy = a \`ProxyAgent\` (one CONNECT per keep-alive connection, TLS to
  the origin inside it). autocannon and wrk cannot speak through a CONNECT proxy, so this is a Node closed-loop
  generator: N workers, one keep-alive connection each, next request as soon as the previous one finished, for a fixed
  duration after a warm-up. Latency at c=16 therefore includes queueing at saturation.
- **llmtap** runs as \`node dist/cli/main.js start\` (default config, info logs to a file, recording to SQLite) with
  \`--upstream-ca <fake CA>\`, \`--connect-to blast.test:443:127.0.0.1:<blaster>\` and \`--connect-to ::127.0.0.1:<fake>\`
  (empty host and port match every name). The tunnel row uses \`bench.test\` (not on the intercept list) with TLS end to
  end between client and fake. New intercepted hosts use a second instance with \`--intercept '*.bench.test'\`.
- **mitmproxy**: Debian's \`mitmdump\` with \`stream_large_bodies=1\`, \`connection_strategy=lazy\`, \`ssl_insecure=false\`,
  \`ssl_verify_upstream_trusted_ca=<fake CA>\`, \`--ignore-hosts '^blast\\.test$'\` (for the tunnel test) and the addon
  \`bench/children/mitm-connect-to.py\`, which redirects only the TCP connect (curl-style connect-to) so SNI, Host,
  certificate checks and mitmproxy's upstream connection reuse are as in a real deployment. (Rewriting
  \`flow.request.host\` changes SNI and the verified name; rewriting \`server.address\` in \`server_connect\` defeats
  connection reuse, because 8.1 matches pooled connections by address.) mitmdump writes no flow file (no \`-w\`).
- **http-mitm-proxy**: \`bench/children/hmp-proxy.mjs\`: \`new Proxy()\`, \`onError\`, \`onRequest\` (sends the request to
  127.0.0.1:<fake> with \`servername\` and Host kept), \`listen({ host, port: 0, sslCaDir, keepAlive: true })\`, with
  \`NODE_EXTRA_CA_CERTS=<fake CA>\` so its upstream checks stay on. It records nothing. It generates a 2048-bit RSA key in
  pure JavaScript for every new host, so its new-host run is capped at ${P.hosts.capMs / 1000} s and the total extrapolated.
- **Archive size**: a fresh llmtap home; N exchanges; \`llmtap.db\` + \`-wal\` while running, then after shutdown
  (which checkpoints and truncates the WAL), minus the empty archive.
- **Event loop**: \`bench/children/llmtap-inproc.mjs\` starts llmtap in-process (\`dist/app.js\` \`startProxy\`, same
  config) with \`perf_hooks.monitorEventLoopDelay\`; each hand-off of records to the writer thread is timed by the
  Recorder itself and read from the diagnostics channel \`llmtap:recorder:batch\` (published only while subscribed),
  together with the time spent encoding each record when it was recorded (records wait as bytes; a hand-off joins
  them into one buffer and transfers it).
- **Tunnel throughput**: while bytes are relayed, the relaying process (llmtap, mitmdump or the pipe; all threads) is
  pinned to core 0 and the generator and blaster to core 1 with \`taskset\`, for the system and the pipe alike:
  unpinned, the scheduler's placement of three busy processes on 2 cores swung the same build between 53 % and
  107 % of the pipe. Direct (no relay) is not pinned.
- **RSS**: \`/proc/<pid>/status\` VmRSS sampled every 100 ms plus VmHWM (reset with \`clear_refs\` before the phase).
- **10-rule policy**: llmtap started with \`--policy\` and the ten rules of \`bench/policy-file.ts\` (two access rules, one
  redact rule scanning every message with all built-in detectors, two rate limits, one checking a token bucket, a cache
  rule that looks every request up and misses, a budget charged with each request's cost, a limits rule, a route rule
  that does not match and a credentials rule that replaces the upstream key); the same latency, throughput and SSE
  phases as the llmtap row. \`bench/policy-eval.ts\` times the stage alone.
- **Cache hit**: llmtap with one cache rule every bench request matches: the first request goes to the fake provider,
  every later one is answered from the cache (latency c=1 and c=16 only).

${r.notes.map((n) => `- ${n}`).join('\n')}
`;
}

/**
 * The hand-written reading of the figures (why a target is missed, with the evidence),
 * kept in bench/analysis.md so a re-run keeps it; `npm run bench:render` re-renders.
 */
function readAnalysis(): string {
  const file = new URL('./analysis.md', import.meta.url);
  return existsSync(file) ? `${readFileSync(file, 'utf8').trim()}\n` : '';
}

function noiseSummary(r: BenchResults): string {
  if (r.noise.length === 0) return '';
  const mean = r.noise.reduce((a, n) => a + n.otherCpuPct, 0) / r.noise.length;
  const worst = [...r.noise].sort((a, b) => b.otherCpuPct - a.otherCpuPct)[0]!;
  return `\n**Other load on the machine during this run** (CPU used by processes outside the bench, % of one core; the
"other load" column gives it per system): mean ${mean.toFixed(0)} % over ${r.noise.length} phases, worst ${worst.otherCpuPct.toFixed(0)} %
(${worst.system}: ${worst.what}). Figures from phases with a lot of other load are pessimistic.
`;
}

export function renderStdout(r: BenchResults): string {
  return `\n${renderTables(r)}\n${noiseSummary(r)}\n`;
}

// ---------- SVG ----------

const COLORS = ['#4C78A8', '#F58518', '#54A24B', '#B279A2'];

function esc(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

interface Panel {
  title: string;
  unit: string;
  series: string[];
  rows: { label: string; values: (number | undefined)[]; note?: string }[];
}

function panelSvg(p: Panel, x0: number, y0: number, width: number): { svg: string; height: number } {
  const labelW = 210;
  const barH = 11;
  const groupGap = 10;
  const plotW = width - labelW - 70;
  const max = Math.max(1e-9, ...p.rows.flatMap((r) => r.values.filter((v): v is number => v !== undefined && Number.isFinite(v))));
  const parts: string[] = [];
  parts.push(`<text x="${x0}" y="${y0 + 14}" font-size="14" font-weight="bold">${esc(p.title)}</text>`);
  let y = y0 + 26;
  p.series.forEach((s, i) => {
    const lx = x0 + labelW + i * 120;
    parts.push(`<rect x="${lx}" y="${y}" width="10" height="10" fill="${COLORS[i]}"/><text x="${lx + 14}" y="${y + 9}" font-size="11">${esc(s)}</text>`);
  });
  y += 20;
  for (const row of p.rows) {
    const groupH = p.series.length * (barH + 2);
    parts.push(`<text x="${x0 + labelW - 8}" y="${y + groupH / 2 + 4}" font-size="12" text-anchor="end">${esc(row.label)}</text>`);
    if (row.note) {
      parts.push(`<text x="${x0 + labelW + 4}" y="${y + groupH / 2 + 4}" font-size="11" fill="#777">${esc(row.note)}</text>`);
    } else {
      row.values.forEach((v, i) => {
        const by = y + i * (barH + 2);
        if (v === undefined || !Number.isFinite(v)) {
          parts.push(`<text x="${x0 + labelW + 4}" y="${by + barH - 1}" font-size="10" fill="#777">–</text>`);
          return;
        }
        const w = Math.max(1, (v / max) * plotW);
        parts.push(`<rect x="${x0 + labelW}" y="${by}" width="${w.toFixed(1)}" height="${barH}" fill="${COLORS[i]}"/>`);
        parts.push(`<text x="${(x0 + labelW + w + 4).toFixed(1)}" y="${by + barH - 1}" font-size="10">${esc(v >= 100 ? int(v) : ms(v))} ${esc(p.unit)}</text>`);
      });
    }
    y += groupH + groupGap;
  }
  parts.push(`<line x1="${x0 + labelW}" y1="${y0 + 44}" x2="${x0 + labelW}" y2="${y - groupGap}" stroke="#333"/>`);
  return { svg: parts.join('\n'), height: y - y0 };
}

export function renderSvg(r: BenchResults): string {
  const width = 820;
  const systems = r.systems;
  const note = (s: SystemResult): string | undefined => (s.na ? (s.na.startsWith('n/a') ? s.na : `n/a (${s.na})`) : undefined);
  const panels: Panel[] = [
    {
      title: 'Latency, non-streaming request, concurrency 1 (lower is better)', unit: 'ms', series: ['p50', 'p99'],
      rows: systems.map((s) => ({ label: s.label, values: [ok(s.c1)?.latency.p50, ok(s.c1)?.latency.p99], note: note(s) })),
    },
    {
      title: 'Throughput, closed loop (higher is better)', unit: 'req/s', series: ['c=16', 'c=64'],
      rows: systems.map((s) => ({ label: s.label, values: [ok(s.c16)?.rps, ok(s.c64)?.rps], note: note(s) })),
    },
    {
      title: 'SSE delay per event (lower is better)', unit: 'ms', series: ['p50', 'p99'],
      rows: systems.map((s) => ({ label: s.label, values: [ok(s.sse)?.delay.p50, ok(s.sse)?.delay.p99], note: note(s) })),
    },
  ];
  let y = 40;
  const body: string[] = [];
  for (const p of panels) {
    const { svg, height } = panelSvg(p, 16, y, width - 32);
    body.push(svg);
    y += height + 24;
  }
  const m = r.machine;
  return `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${y + 10}" viewBox="0 0 ${width} ${y + 10}" font-family="Helvetica, Arial, sans-serif">
<rect width="100%" height="100%" fill="#fff"/>
<text x="16" y="22" font-size="16" font-weight="bold">llmtap benchmarks${r.params.quick ? ' (quick run)' : ''}</text>
<text x="${width - 16}" y="22" font-size="11" text-anchor="end" fill="#555">${esc(`${m.date.slice(0, 10)} · ${m.nproc} cores ${m.cpu} · Node ${m.node} · loopback, shared CPU`)}</text>
${body.join('\n')}
</svg>
`;
}
