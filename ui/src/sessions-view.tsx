import { useEffect, useRef, useState } from 'preact/hooks';
import { ESTIMATE_RECHECK_MS, getJson, PAGE_SIZE, type SessionJson, type SessionList } from './api.js';
import { knownSum } from '../../src/cost/unpriced-count.js';
import { Paging } from './blocks.js';
import { counted, dateTime, ms, shortId, tokens, usd } from './format.js';

const NO_SESSION_FILTERS = { tool: '', model: '', user: '', label: '' };

export function SessionsView() {
  const [sessions, setSessions] = useState<SessionJson[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [filters, setFilters] = useState(NO_SESSION_FILTERS);
  // Whether the last page read was full: older sessions may be behind it.
  const [more, setMore] = useState(false);
  const [loadingOlder, setLoadingOlder] = useState(false);
  const filtersRef = useRef(filters);
  filtersRef.current = filters;
  const url = (offset: number) => {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(filters)) if (v.trim()) params.set(k, v.trim());
    if (offset > 0) params.set('offset', String(offset));
    return `/ui/api/sessions?${params.toString()}`;
  };
  useEffect(() => {
    let stale = false;
    let again: ReturnType<typeof setTimeout> | undefined;
    // A session whose answer awaits its token estimate reads 0 tokens for a moment: read
    // the first page again and update the sessions it lists (older pages loaded stay).
    const recheck = () => getJson<SessionList>(url(0)).then((r) => {
      if (stale) return;
      const fresh = new Map(r.sessions.map((s) => [s.id, s]));
      setSessions((current) => current && current.map((s) => fresh.get(s.id) ?? s));
      if (r.estimates_due) again = setTimeout(recheck, ESTIMATE_RECHECK_MS);
    }, () => {});
    // Typed filters wait for a pause in the typing.
    const t = setTimeout(() => getJson<SessionList>(url(0)).then((r) => {
      if (stale) return;
      setSessions(r.sessions); setMore(r.sessions.length >= PAGE_SIZE); setError(null);
      if (r.estimates_due) again = setTimeout(recheck, ESTIMATE_RECHECK_MS);
    }, (err: Error) => !stale && setError(err.message)), 150);
    return () => { stale = true; clearTimeout(t); clearTimeout(again); };
  }, [filters]);
  // The next page by position: sessions started since the first page push it along, so one may come twice (left out by id).
  const loadOlder = () => {
    if (!sessions) return;
    const asked = filters;
    setLoadingOlder(true);
    getJson<SessionList>(url(sessions.length)).then((r) => {
      if (asked !== filtersRef.current) return;
      setSessions((current) => {
        const have = new Set((current ?? []).map((s) => s.id));
        return [...(current ?? []), ...r.sessions.filter((s) => !have.has(s.id))];
      });
      setMore(r.sessions.length >= PAGE_SIZE);
    }, (err: Error) => setError(err.message)).finally(() => setLoadingOlder(false));
  };
  const field = (name: keyof typeof NO_SESSION_FILTERS, width: number) => (
    <input id={`sessions-${name}`} class="filter" style={{ width: `${width}em` }} placeholder={name} value={filters[name]}
      onInput={(e) => setFilters({ ...filters, [name]: (e.target as HTMLInputElement).value })} />
  );
  const filtered = Object.values(filters).some((v) => v.trim());
  return (
    <section>
      <div class="toolbar">{field('tool', 9)}{field('model', 10)}{field('user', 7)}{field('label', 7)}</div>
      {error && <p class="error">{error}</p>}
      {!sessions && !error && <p class="dim">loading…</p>}
      {sessions && sessions.length === 0 && <p class="empty">{filtered ? <>No sessions match these filters. <button type="button" class="clear-filters" onClick={() => setFilters(NO_SESSION_FILTERS)}>clear filters</button></> : 'No sessions recorded yet.'}</p>}
      {sessions && sessions.length > 0 && <SessionTable sessions={sessions} />}
      {sessions && sessions.length > 0 && <Paging shown={counted(sessions.length, 'session')} more={more} loading={loadingOlder} onLoad={loadOlder} />}
    </section>
  );
}

function SessionTable({ sessions }: { sessions: SessionJson[] }) {
  return (
    <div class="table-box">
      <table class="list">
        <thead><tr><th>session</th><th>started</th><th class="num">duration</th><th>tool</th><th>models</th><th class="num">threads</th><th class="num">turns</th><th class="num">in</th><th class="num">out</th><th class="num">cost</th><th>user</th></tr></thead>
        <tbody>
          {sessions.map((s) => (
            <tr key={s.id}>
              <td class="mono"><a href={`#/session/${encodeURIComponent(s.id)}`} title={s.id}>{shortId(s.id)}</a></td>
              <td class="mono">{dateTime(s.started_at)}</td><td class="num">{ms(s.duration_ms)}</td><td class="cut" title={s.tool ?? ''}>{s.tool ?? '–'}</td><td class="cut" title={s.models.join(', ')}>{s.models.join(', ')}</td>
              <td class="num">{s.threads}</td><td class="num">{s.turns}</td><td class="num">{tokens(s.tokens.input)}</td><td class="num">{tokens(s.tokens.output)}</td>
              <td class="num" title={s.unpriced_exchanges > 0 ? `not counted: ${counted(s.unpriced_exchanges, 'exchange')} with no known price` : undefined}>{usd(knownSum(s.cost_usd, s.unpriced_exchanges), s.api_equivalent)}{s.unpriced_exchanges > 0 && s.cost_usd !== null ? '+' : ''}</td><td class="cut" title={s.client.user ?? ''}>{s.client.user ?? ''}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
