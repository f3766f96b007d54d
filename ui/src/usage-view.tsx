import { useEffect, useRef, useState } from 'preact/hooks';
import { knownSum } from '../../src/cost/unpriced-count.js';
import { getJson, whoAmI } from './api.js';
import { Choice } from './blocks.js';
import { counted, ms, tokens, TTFT_TITLE, usd } from './format.js';
import { PERIODS, pricesWouldHelp, reportUrl, unpricedLines, USAGE_GROUPS, type Period, type UnpricedReason, type UsageGroup } from './usage-data.js';

/** One group as the usage API gives it (`stats --json`'s shape). */
interface UsageRow {
  [group: string]: unknown;
  requests: number;
  errors: number;
  tokens: { input: number; output: number; cached_input: number };
  cost_usd: number | null;
  unpriced_exchanges: number;
  latency_ms: { p50: number | null; p95: number | null };
  ttft_ms: { p50: number | null; p95: number | null };
  cache_hit_ratio: number | null;
  /** Why some of its exchanges have no cost (absent from a proxy that predates it). */
  unpriced_reasons?: UnpricedReason[];
}

/** The usage page scrolled to its list of exchanges without a price: where the footnote on `+` points, an address that can be shared. */
const UNPRICED_HASH = '#/usage/unpriced';

function showUnpriced(): void {
  document.getElementById('unpriced')?.scrollIntoView();
}

/**
 * `llmtap stats` in the browser: requests, errors, tokens, cache hits, cost and latency
 * per model, tool, host, day, user, team or label over a period, the whole archive's
 * range read by the proxy off its event loop; the same table as CSV one click away.
 */
export function UsageView() {
  const [by, setBy] = useState<UsageGroup>('model');
  const [period, setPeriod] = useState<Period>('30d');
  const [hasTeams, setHasTeams] = useState(false);
  const [table, setTable] = useState<{ rows: UsageRow[]; total: UsageRow | null } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    void whoAmI().then((me) => setHasTeams(Object.keys(me.teams).length > 0));
  }, []);
  useEffect(() => {
    const at = Date.now();
    setNow(at);
    setTable(null);
    setError(null);
    getJson<{ rows: UsageRow[]; total: UsageRow | null }>(reportUrl('usage', by, period, at)).then(setTable, (err: Error) => setError(err.message));
  }, [by, period]);
  // Opened at the list's address: scrolled there once the table (above it) is in.
  const arrivedAtList = useRef(location.hash === UNPRICED_HASH);
  useEffect(() => {
    if (!table || !arrivedAtList.current) return;
    arrivedAtList.current = false;
    showUnpriced();
  }, [table]);
  const choices = USAGE_GROUPS.filter((g) => g !== 'team' || hasTeams);
  const unpriced = table?.total?.unpriced_reasons ?? [];
  return (
    <section class="usage">
      <div class="toolbar">
        <Choice id="usage-by" label="Group by" value={by} options={choices.map((g) => [g, groupLabel(g)] as const)} onChange={setBy} />
        <Choice id="usage-period" label="Period" value={period} options={PERIODS} onChange={setPeriod} />
        <a class="download" href={reportUrl('usage', by, period, now, true)} download>download CSV</a>
      </div>
      {error && <p class="error">{error}</p>}
      {!error && !table && <p class="dim">reading the archive…</p>}
      {table && table.rows.length === 0 && <p class="empty">No exchanges in this period.</p>}
      {table && table.rows.length > 0 && (
        // On a phone the eleven columns scroll in their own box, not the page.
        <div class="table-box">
          <table class="list usage-table">
            <thead>
              <tr>
                <th>{groupLabel(by)}</th><th class="num">requests</th><th class="num">errors</th><th class="num">in</th><th class="num">out</th><th class="num" title="cached share of prompt tokens, as the charts' cache hit ratio">cache hit</th>
                <th class="num">cost</th><th class="num">p50</th><th class="num">p95</th><th class="num" title={TTFT_TITLE}>TTFT p50</th><th class="num" title={TTFT_TITLE}>TTFT p95</th>
              </tr>
            </thead>
            <tbody>
              {table.rows.map((r, i) => <Row key={i} label={String(r[by] ?? '(none)')} row={r} link={listLink(by, r[by])} />)}
              {table.total && <Row label="total" row={table.total} total />}
            </tbody>
          </table>
        </div>
      )}
      <UnpricedNote groups={unpriced} />
      {/* About the table's figures: under no table it only puzzles. */}
      {table && table.rows.length > 0 && (
        <p class="dim footnote">
          Costs as priced when each exchange was recorded
          {/* The `+` explained only where a figure has one. */}
          {(table.total?.unpriced_exchanges ?? 0) > 0 && <>; <code>+</code>: some exchanges in the group have no known price
            {unpriced.length > 0 && <> (<a href={UNPRICED_HASH} onClick={showUnpriced}>which, and why</a>)</>}</>}. Percentiles of the total are over every exchange at once.
        </p>
      )}
    </section>
  );
}

/** A grouping as the page names it: days are UTC days (as `stats --by day` counts them), which the page says. */
function groupLabel(by: UsageGroup): string {
  return by === 'day' ? 'day (UTC)' : by;
}

/** The live list filtered to a group's exchanges, for the groupings it filters by. */
function listLink(by: UsageGroup, key: unknown): string | undefined {
  if (typeof key !== 'string' || !(by === 'model' || by === 'tool' || by === 'host' || by === 'user')) return undefined;
  return `#/?${new URLSearchParams({ [by]: key }).toString()}`;
}

function Row({ label, row, total = false, link }: { label: string; row: UsageRow; total?: boolean; link?: string | undefined }) {
  const cost = usd(knownSum(row.cost_usd, row.unpriced_exchanges));
  const partial = row.unpriced_exchanges > 0 && row.cost_usd !== null;
  return (
    <tr class={total ? 'total' : undefined}>
      {/* A fine-tuned model's long name is cut, whole in its tooltip: one name never makes the figures scroll out of sight. */}
      <td class="cut" title={label}>{link ? <a href={link} title={`${label}: its exchanges, newest first`}>{label}</a> : label}</td><td class="num">{row.requests}</td><td class="num">{row.errors}</td>
      <td class="num">{tokens(row.tokens.input)}</td><td class="num">{tokens(row.tokens.output)}</td>
      <td class="num">{row.cache_hit_ratio === null ? '–' : `${Math.round(row.cache_hit_ratio * 100)}%`}</td>
      <td class="num" title={partial ? unpricedTitle(row) : undefined}>{partial ? `${cost}+` : cost}</td>
      <td class="num">{ms(row.latency_ms.p50)}</td><td class="num">{ms(row.latency_ms.p95)}</td>
      <td class="num">{ms(row.ttft_ms.p50)}</td><td class="num">{ms(row.ttft_ms.p95)}</td>
    </tr>
  );
}

/** What a cost's `+` leaves out, on the figure itself: which exchanges and why, or at least how many. */
function unpricedTitle(row: UsageRow): string {
  const reasons = row.unpriced_reasons ?? [];
  return reasons.length > 0 ? `+: ${unpricedLines(reasons).join('\n')}` : `+: ${counted(row.unpriced_exchanges, 'exchange')} with no known price, left out of this sum`;
}

/** Under the table, as under `stats`' table: which exchanges have no cost and why, so the model a --prices rule should name is in sight. */
function UnpricedNote({ groups }: { groups: readonly UnpricedReason[] }) {
  if (groups.length === 0) return null;
  return (
    <div class="unpriced" id="unpriced">
      <p>No cost for exchanges that counted tokens:</p>
      <ul>{unpricedLines(groups).map((line, i) => <li key={i}>{line}</li>)}</ul>
      {pricesWouldHelp(groups) && <p class="dim">A <code>--prices</code> file given to the proxy prices a model the price list lacks (README: Cost).</p>}
    </div>
  );
}
