import type { ComponentChild } from 'preact';
import { useEffect, useRef, useState } from 'preact/hooks';
import { applyWritten, getJson, insertByTime, mergeFetched, listUrl, matchesFilters, modelText, NO_FILTERS, PAGE_SIZE, type ListFilters, type ListRow, type UiListItem, type UiWrittenItem } from './api.js';
import { Paging } from './blocks.js';
import { counted, listTime, ms, shortId, tokens, TTFT_TITLE, usd } from './format.js';
import { useNoKeys } from './no-keys.js';
import { SessionWait } from './session-wait.js';
import { exchangeFailed, stopErrorOf } from '../../src/failed-exchange.js';
import { knownCost } from '../../src/cost/unpriced-count.js';

/** Why a row's tokens start with `~` (the input's only when the answer reported none: a stream cut after its input was reported keeps that). */
const ESTIMATED = 'estimated by llmtap: the answer reported no usage, or was cut before it';
const OUTPUT_ESTIMATED = 'output estimated by llmtap: the stream was cut before its final usage (the input is as the provider reported it)';

const MAX_ROWS = 1000;

export function ListView({ initial = NO_FILTERS }: { initial?: ListFilters }) {
  const [filters, setFilters] = useState<ListFilters>(initial);
  const [rows, setRows] = useState<ListRow[]>([]);
  const [error, setError] = useState<string | null>(null);
  // The selection is the exchange the user picked, not a position: rows pushed above it
  // leave it where it is. Until one is picked it is the top row, the newest.
  const [picked, setPicked] = useState<string | null>(null);
  const [live, setLive] = useState<'connecting' | 'live' | 'offline'>('connecting');
  // Whether the last page read was full: older exchanges may be behind it.
  const [more, setMore] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  // The filters the last list fetch answered for: an empty list says why only once its fetch has answered.
  const [answered, setAnswered] = useState<ListFilters | null>(null);
  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  // Nothing picked (or the picked row gone, the filters changed): the top row.
  const selected = Math.max(0, rows.findIndex((r) => r.id === picked));

  // The current rows and selection for listeners set up once: a key pressed right after
  // new rows arrive must see them, not the previous render's.
  const view = useRef({ rows, selected });
  view.current = { rows, selected };
  const select = (to: number) => {
    const id = view.current.rows[to]?.id ?? null;
    view.current.selected = to; // before the re-render, for a key pressed right after
    setPicked(id);
  };

  // Ids pushed live that no list fetch has answered with yet: kept when an answer lacks them (mergeFetched).
  const unfetched = useRef(new Set<string>());
  const sessionWait = useRef(new SessionWait());

  useEffect(() => {
    let stale = false;
    const t = setTimeout(() => {
      sessionWait.current.clear();
      getJson<{ exchanges: UiListItem[] }>(listUrl(filters)).then((r) => {
        if (stale) return;
        setRows((current) => mergeFetched(r.exchanges, current, unfetched.current, filters));
        // In the archive now: a later fetch holds them, or rightly leaves them out. (The merge
        // above, even run later, never keeps a row the answer holds, so this order is safe.)
        for (const e of r.exchanges) unfetched.current.delete(e.id);
        setMore(r.exchanges.length >= PAGE_SIZE); setError(null); setAnswered(filters);
      }, (err: Error) => !stale && setError(err.message));
    }, 150);
    return () => { stale = true; clearTimeout(t); };
  }, [filters]);

  // New rows are pushed by the proxy as exchanges complete (Server-Sent Events).
  useEffect(() => {
    const remember = (id: string) => {
      const pushed = unfetched.current;
      if (pushed.size >= MAX_ROWS) pushed.delete(pushed.values().next().value!); // bounded like the list
      pushed.add(id);
    };
    const source = new EventSource('/ui/api/live');
    source.onopen = () => setLive('live');
    source.onerror = () => setLive(source.readyState === EventSource.CLOSED ? 'offline' : 'connecting');
    source.addEventListener('exchange', (event) => {
      const item: ListRow = { ...(JSON.parse((event as MessageEvent<string>).data) as UiListItem), pending: true };
      if (!matchesFilters(item, filtersRef.current)) return void sessionWait.current.hold(item, filtersRef.current);
      remember(item.id);
      // Bounded, but never below what "load older" brought in.
      setRows((current) => (current.some((r) => r.id === item.id) ? current : [item, ...current].slice(0, Math.max(MAX_ROWS, current.length))));
    });
    // Once the archive has written them, live rows learn their session, thread and turn.
    source.addEventListener('written', (event) => {
      const written = JSON.parse((event as MessageEvent<string>).data) as UiWrittenItem[];
      // A list filtered by session takes the rows written into it now that their session is known.
      const joined = sessionWait.current.take(written, filtersRef.current);
      for (const row of joined) remember(row.id);
      setRows((current) => insertByTime(applyWritten(current, written), joined));
    });
    return () => source.close();
  }, []);

  useEffect(() => {
    const open = (hash: string) => (location.hash = hash);
    const onKey = (e: KeyboardEvent) => {
      if (e.target instanceof HTMLInputElement || e.target instanceof HTMLSelectElement || e.metaKey || e.ctrlKey || e.altKey) return;
      const { rows: current, selected: at } = view.current;
      const row = current[at];
      if (e.key === 'j' || e.key === 'ArrowDown') select(Math.max(0, Math.min(current.length - 1, at + 1)));
      else if (e.key === 'k' || e.key === 'ArrowUp') select(Math.max(0, at - 1));
      else if (e.key === 'Enter' && row) open(`#/exchange/${encodeURIComponent(row.id)}`);
      else if (e.key === 's' && row?.sessionId) open(`#/session/${encodeURIComponent(row.sessionId)}`);
      else if (e.key === '/') document.getElementById('filter-q')?.focus();
      else return;
      e.preventDefault();
    };
    addEventListener('keydown', onKey);
    return () => removeEventListener('keydown', onKey);
  }, []);

  useEffect(() => {
    document.querySelector('tr.selected')?.scrollIntoView({ block: 'nearest' });
  }, [selected]);

  const loadOlder = () => {
    const oldest = rows[rows.length - 1];
    if (!oldest) return;
    const asked = filters;
    setLoadingOlder(true);
    getJson<{ exchanges: UiListItem[] }>(listUrl(asked, oldest)).then((r) => {
      if (filtersRef.current !== asked) return;
      setRows((current) => insertByTime(current, r.exchanges));
      setMore(r.exchanges.length >= PAGE_SIZE);
    }, (err: Error) => setError(err.message)).finally(() => setLoadingOlder(false));
  };

  // A link's filters live in the address (`#/?model=…`): clearing goes back to the plain list.
  const clearFilters = () => (location.hash.includes('?') ? (location.hash = '#/') : setFilters(NO_FILTERS));

  // The `/` key is named only where there is a keyboard, as the hints are shown (no-keys.ts).
  const noKeys = useNoKeys();
  const field = (name: keyof ListFilters, placeholder: string, width = 8) => (
    <input id={`filter-${name}`} class="filter" style={{ width: `${width}em` }} placeholder={placeholder} value={filters[name]}
      onInput={(e) => setFilters({ ...filters, [name]: (e.target as HTMLInputElement).value })} />
  );

  return (
    <section>
      <div class="toolbar">
        {field('q', noKeys ? 'search prompts and answers' : 'search prompts and answers  (/)', 18)}
        {field('tool', 'tool')}
        {field('model', 'model', 10)}
        {field('host', 'host', 10)}
        {field('user', 'user', 7)}
        {field('status', '200, 4xx, error', 9)}
        {field('session', 'session', 9)}
        <span class={`live-dot ${live}`} title="server push">{live === 'live' ? '● live' : live === 'connecting' ? '○ connecting' : '○ offline'}</span>
        <span class="hint">j/k move · Enter open · s session</span>
      </div>
      {error && <p class="error">{error}</p>}
      {/* No column headings over nothing: the line under them says why the list is empty, as on the sessions list. */}
      {rows.length > 0 && (
        <div class="table-box">
          <table class="list">
            <thead>
              <tr>
                <th>time</th><th>tool</th><th>model</th><th>status</th><th class="num">in</th><th class="num">out</th><th class="num">cached</th>
                <th class="num">cost</th><th class="num">latency</th><th class="num" title={TTFT_TITLE}>TTFT</th><th>policy</th><th>session</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => [
                <tr key={r.id} class={i === selected ? 'selected' : ''} data-id={r.id} onClick={() => select(i)}
                  onDblClick={() => (location.hash = `#/exchange/${encodeURIComponent(r.id)}`)}>
                  <td class="mono">{listTime(r.startedAt)}</td>
                  <td class="cut" title={r.tool ?? ''}>{r.tool ?? '–'}</td>
                  <td class="cut" title={modelText(r) ?? `${r.method} ${r.path}`}><a href={`#/exchange/${encodeURIComponent(r.id)}`}>{modelText(r) ?? `${r.method} ${r.path}`}</a></td>
                  <td><Status item={r} /></td>
                  <td class="num" title={r.estimated === 'all' ? ESTIMATED : undefined}>{r.estimated === 'all' ? '~' : ''}{tokens(r.promptTokens)}</td>
                  <td class="num" title={r.estimated ? (r.estimated === 'all' ? ESTIMATED : OUTPUT_ESTIMATED) : undefined}>{r.estimated ? '~' : ''}{tokens(r.outputTokens)}</td>
                  <td class="num">{tokens(r.cachedTokens)}</td>
                  <td class="num">{usd(knownCost({ cost_usd: r.costUsd, outcome: r.outcome, status: r.status, input_tokens: r.promptTokens, output_tokens: r.outputTokens }), r.apiEquivalent)}</td>
                  <td class="num">{ms(r.latencyMs)}</td>
                  <td class="num">{ms(r.ttftMs)}</td>
                  <td class={r.policy?.startsWith('blocked') ? 'cut policy blocked' : 'cut policy'} title={r.policy ?? ''}>{r.policy ?? ''}</td>
                  <td class="mono">{r.sessionId ? <a href={`#/session/${encodeURIComponent(r.sessionId)}`} title={r.sessionId}>{shortId(r.sessionId)}</a> : r.pending ? <span class="dim" title="being written to the archive">…</span> : '–'}</td>
                </tr>,
                r.match && (
                  <tr key={`${r.id}-match`} class="match-row" onClick={() => select(i)}>
                    <td colSpan={12}><span class="match-in">{r.match.in}</span> <Highlighted text={r.match.snippet} needle={filters.q.trim()} /></td>
                  </tr>
                ),
              ])}
            </tbody>
          </table>
        </div>
      )}
      {rows.length > 0 && <Paging shown={counted(rows.length, 'exchange')} more={more} loading={loadingOlder} onLoad={loadOlder} />}
      {rows.length === 0 && !error && answered === filters && <Empty filters={filters} onClear={clearFilters} />}
    </section>
  );
}

/** An empty list: nothing matches the filters (which, and a way out), or nothing recorded at all. */
function Empty({ filters, onClear }: { filters: ListFilters; onClear: () => void }) {
  const active = (Object.entries(filters) as [keyof ListFilters, string][]).filter(([, v]) => v.trim());
  if (active.length === 0) return <p class="empty">No exchanges yet. Point a tool at this proxy (HTTPS_PROXY) and they appear here as they complete.</p>;
  const words = active.map(([k, v]) => (k === 'q' ? `text “${v.trim()}”` : `${k} ${v.trim()}`));
  return (
    <p class="empty no-match">
      No exchanges match {words.join(', ')}{filters.q.trim() ? ' (the search reads the newest 2,000 the other filters leave)' : ''}.{' '}
      <button type="button" class="clear-filters" onClick={onClear}>clear filters</button>
    </p>
  );
}

/** The snippet with each occurrence of the searched text marked (any case); text only, never HTML. */
export function Highlighted({ text, needle }: { text: string; needle: string }) {
  if (!needle) return <span>{text}</span>;
  const parts: ComponentChild[] = [];
  const lower = text.toLowerCase();
  const want = needle.toLowerCase();
  let from = 0;
  for (let at = lower.indexOf(want); at >= 0; at = lower.indexOf(want, at + want.length)) {
    parts.push(text.slice(from, at), <mark>{text.slice(at, at + want.length)}</mark>);
    from = at + want.length;
  }
  parts.push(text.slice(from));
  return <span>{parts}</span>;
}

/** Status facts of an exchange read whole (the exchange page), by the list's one rule. */
export function statusItem(status: number | null, outcome: string | null, errorCode: string | null, stopReason: string | null): Pick<UiListItem, 'status' | 'outcome' | 'errorCode' | 'stopError' | 'failed'> {
  return { status, outcome, errorCode, stopError: stopErrorOf(status, stopReason), failed: exchangeFailed({ outcome, status, stopReason }) };
}

export function Status({ item }: { item: Pick<UiListItem, 'status' | 'outcome' | 'errorCode' | 'stopError' | 'failed'> }) {
  const label = item.status === null ? (item.outcome ?? '–') : String(item.status);
  // After the status: the outcome of one that did not complete, else the provider's error that ended its answer.
  const after = item.status === null ? null : item.outcome && item.outcome !== 'completed' ? item.outcome : item.stopError;
  return <span class={item.failed ? 'status bad' : 'status ok'} title={item.errorCode ?? item.stopError ?? item.outcome ?? ''}>{label}{after ? ` ${after}` : ''}</span>;
}
