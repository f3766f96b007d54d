import { useEffect, useState } from 'preact/hooks';
import { ESTIMATE_RECHECK_MS, getJson, turnKey, type RequestDiff, type SessionPage, type ThreadView } from './api.js';
import { counted, dateTime, ms, quota, shortId, tokens, usd } from './format.js';
import { ReplayBar, useReplay } from './replay-control.js';
import { Downloads } from './blocks.js';
import { knownSum } from '../../src/cost/unpriced-count.js';
import { Turn } from './turn-card.js';

export function SessionView({ id }: { id: string }) {
  const [page, setPage] = useState<SessionPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setPage(null);
    let stale = false;
    let again: ReturnType<typeof setTimeout> | undefined;
    const load = () => getJson<SessionPage>(`/ui/api/sessions/${encodeURIComponent(id)}`).then((read) => {
      if (stale) return;
      setPage(read);
      if (read.estimates_due) again = setTimeout(load, ESTIMATE_RECHECK_MS);
    }, (err: Error) => !stale && setError(err.message));
    void load();
    return () => { stale = true; clearTimeout(again); };
  }, [id]);
  if (error) return <p class="error">{error}</p>;
  if (!page) return <p class="dim">loading…</p>;
  return <SessionPageView page={page} />;
}

function SessionPageView({ page }: { page: SessionPage }) {
  const s = page.session;
  const replay = useReplay(page.threads);
  // Keep the turn just revealed in sight.
  useEffect(() => {
    if (replay.current) document.querySelector(`article.turn[data-key="${CSS.escape(replay.current)}"]`)?.scrollIntoView({ block: 'nearest' });
  }, [replay.current]);
  const shown: Shown = { visible: replay.visible, current: replay.current };
  return (
    <section class="session">
      <h1>Session <span class="mono">{s.id}</span></h1>
      <div class="facts">
        <span>{dateTime(s.started_at)}</span><span>{ms(s.duration_ms)}</span><span>{s.tool ?? 'unknown tool'}</span><span>{s.models.join(', ')}</span>
        {/* Token counts belong to the session but are no turns: counted beside them, as `show` does. */}
        <span>{counted(s.threads, 'thread')}, {counted(replay.steps.length, 'turn')}{page.token_counts ? `, ${counted(page.token_counts, 'token count')}` : ''}</span>
        <span>in {tokens(s.tokens.input)} · cached {tokens(s.tokens.cached_input)} · out {tokens(s.tokens.output)}</span>
        <span class="cost">{usd(knownSum(s.cost_usd, s.unpriced_exchanges), s.api_equivalent)}</span>
        {s.quota_burn_percent && <span class="quota" title="share of the subscription's usage windows this session used (account-wide windows: an upper bound when sessions overlap)">quota burn {quota(s.quota_burn_percent)}</span>}
        {s.client.user && <span>user {s.client.user}</span>}
        <Downloads path={`sessions/${encodeURIComponent(s.id)}`} />
      </div>
      <ReplayBar replay={replay} />
      {page.threads.map((t) => <Thread key={t.thread.id} view={t} diffs={page.diffs} depth={0} shown={shown} />)}
    </section>
  );
}

/** Which turns a replay has revealed so far (null: all), and the one revealed last. */
interface Shown { visible: Set<string> | null; current: string | null }

function Thread({ view, diffs, depth, shown }: { view: ThreadView; diffs: Record<string, RequestDiff>; depth: number; shown: Shown }) {
  const t = view.thread;
  const { visible } = shown;
  if (visible && !hasVisibleTurn(view, visible)) return null;
  // A thread's cost is API-equivalent (~) when some of its turns are, as a session's is (session-rollup.ts).
  return (
    <div class={depth > 0 ? 'thread sub' : 'thread'} data-thread={t.id}>
      <div class="thread-head">
        {depth > 0 ? 'subagent thread' : 'thread'} <span class="mono">{shortId(t.id)}</span>
        {t.agentId && <span class="tag">{t.agentId}</span>}
        <span class="dim"> {counted(view.turns.length, 'turn')} · out {tokens(t.outputTokens)} · {usd(t.costUsd, view.turns.some((turn) => turn.apiEquivalent))}{t.quota ? ` · quota ${quota(t.quota)}` : ''}</span>
      </div>
      {view.turns.map((turn, i) => (
        <div key={turnKey(turn)}>
          {(!visible || visible.has(turnKey(turn))) && <Turn turn={turn} diff={diffs[turn.exchangeId]} current={shown.current === turnKey(turn)} />}
          {view.children.filter((c) => c.afterTurn === i).map((c) => <Thread key={c.view.thread.id} view={c.view} diffs={diffs} depth={depth + 1} shown={shown} />)}
        </div>
      ))}
    </div>
  );
}

function hasVisibleTurn(view: ThreadView, visible: Set<string>): boolean {
  return view.turns.some((t) => visible.has(turnKey(t))) || view.children.some((c) => hasVisibleTurn(c.view, visible));
}
