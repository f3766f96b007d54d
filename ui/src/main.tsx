import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ChartsView } from './charts-view.js';
import { ExchangeView } from './exchange-view.js';
import { ListView } from './list-view.js';
import { SessionView } from './session-view.js';
import { SessionsView } from './sessions-view.js';
import { UsageView } from './usage-view.js';
import { PolicyView } from './policy-view.js';
import { filtersFromQuery, getJson, whoAmI, type ListFilters } from './api.js';
import { counted } from './format.js';
import './styles.css';

/** Views are addressed by the URL fragment, so the browser's back button and links work without a server route per view. */
type Route = { view: 'list'; filters?: ListFilters } | { view: 'sessions' } | { view: 'charts' } | { view: 'usage' } | { view: 'policy' } | { view: 'session'; id: string } | { view: 'exchange'; id: string };

export function parseRoute(hash: string): Route {
  const [, view, id] = hash.replace(/^#/, '').split('/');
  // `#/?model=gpt-4o`: the list, filtered (the usage page's rows link there).
  if (view?.startsWith('?')) return { view: 'list', filters: filtersFromQuery(view.slice(1)) };
  if (view === 'session' && id) return { view: 'session', id: decodeURIComponent(id) };
  if (view === 'exchange' && id) return { view: 'exchange', id: decodeURIComponent(id) };
  if (view === 'sessions') return { view: 'sessions' };
  if (view === 'charts') return { view: 'charts' };
  if (view === 'usage') return { view: 'usage' };
  if (view === 'policy') return { view: 'policy' };
  return { view: 'list' };
}

/** How often every page asks whether the archive records (the proxy's recorder state). */
const ARCHIVE_POLL_MS = 10_000;

/**
 * A strip over every page while the proxy cannot write its archive: traffic still flows
 * (fail-open), the live list still shows it, but sessions, usage and search will not have
 * it — without this the UI would look fine while recording nothing.
 */
function ArchiveBanner() {
  const [state, setState] = useState<{ healthy: boolean; lost: number } | undefined>();
  useEffect(() => {
    const look = () => void getJson<{ healthy: boolean; lost: number }>('/ui/api/archive').then(setState, () => {});
    look();
    const timer = setInterval(look, ARCHIVE_POLL_MS);
    return () => clearInterval(timer);
  }, []);
  if (!state || state.healthy) return null;
  return (
    <div class="archive-failing" role="alert">
      <b>The archive is failing:</b> traffic is forwarded but not recorded ({counted(state.lost, 'record')} lost since the proxy started). The proxy's log says why (disk full, read-only, locked); <code>llmtap doctor</code> checks it too.
    </div>
  );
}

function App() {
  const [route, setRoute] = useState<Route>(() => parseRoute(location.hash));
  useEffect(() => {
    const onHash = () => setRoute(parseRoute(location.hash));
    addEventListener('hashchange', onHash);
    return () => removeEventListener('hashchange', onHash);
  }, []);
  // The policy page is for the UI's admins (everyone on a proxy without users).
  const [admin, setAdmin] = useState(false);
  useEffect(() => void whoAmI().then((me) => setAdmin(me.admin)), []);
  const tab = (href: string, label: string, active: boolean) => <a href={href} class={active ? 'tab active' : 'tab'}>{label}</a>;
  return (
    <div class="shell">
      <header class="top">
        <span class="brand">llmtap</span>
        {tab('#/', 'Live', route.view === 'list')}
        {tab('#/sessions', 'Sessions', route.view === 'sessions' || route.view === 'session')}
        {tab('#/charts', 'Charts', route.view === 'charts')}
        {tab('#/usage', 'Usage', route.view === 'usage')}
        {admin && tab('#/policy', 'Policy', route.view === 'policy')}
        <a class="tab right" href="/" title="counters of the running proxy">Status</a>
      </header>
      <ArchiveBanner />
      <main>
        {route.view === 'list' && <ListView key={location.hash} initial={route.filters} />}
        {route.view === 'sessions' && <SessionsView />}
        {route.view === 'charts' && <ChartsView />}
        {route.view === 'usage' && <UsageView />}
        {route.view === 'policy' && <PolicyView />}
        {route.view === 'session' && <SessionView id={route.id} />}
        {route.view === 'exchange' && <ExchangeView id={route.id} />}
      </main>
    </div>
  );
}

render(<App />, document.getElementById('app')!);
