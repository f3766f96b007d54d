import { useEffect, useState } from 'preact/hooks';
import { getJson, type RequestDiff, type SessionPage, type ThreadView, type TurnView } from './api.js';
import { Markdown, Message, Thinking, ToolCall } from './blocks.js';
import { dateTime, ms, shortId, time, tokens, usd } from './format.js';

export function SessionView({ id }: { id: string }) {
  const [page, setPage] = useState<SessionPage | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setPage(null);
    getJson<SessionPage>(`/ui/api/sessions/${encodeURIComponent(id)}`).then(setPage, (err: Error) => setError(err.message));
  }, [id]);
  if (error) return <p class="error">{error}</p>;
  if (!page) return <p class="dim">loading…</p>;
  const s = page.session;
  return (
    <section class="session">
      <h1>Session <span class="mono">{s.id}</span></h1>
      <div class="facts">
        <span>{dateTime(s.started_at)}</span><span>{ms(s.duration_ms)}</span><span>{s.tool ?? 'unknown tool'}</span><span>{s.models.join(', ')}</span>
        <span>{s.threads} thread{s.threads === 1 ? '' : 's'}, {s.turns} turn{s.turns === 1 ? '' : 's'}</span>
        <span>in {tokens(s.tokens.input)} · cached {tokens(s.tokens.cached_input)} · out {tokens(s.tokens.output)}</span>
        <span class="cost">{usd(s.cost_usd, s.api_equivalent)}</span>
        {s.client.user && <span>user {s.client.user}</span>}
      </div>
      {page.threads.map((t) => <Thread key={t.thread.id} view={t} diffs={page.diffs} depth={0} />)}
    </section>
  );
}

function Thread({ view, diffs, depth }: { view: ThreadView; diffs: Record<string, RequestDiff>; depth: number }) {
  const t = view.thread;
  return (
    <div class={depth > 0 ? 'thread sub' : 'thread'} data-thread={t.id}>
      <div class="thread-head">
        {depth > 0 ? 'subagent thread' : 'thread'} <span class="mono">{shortId(t.id)}</span>
        {t.agentId && <span class="tag">{t.agentId}</span>}
        <span class="dim"> {t.exchanges} turns · out {tokens(t.outputTokens)} · {usd(t.costUsd)}</span>
      </div>
      {view.turns.map((turn, i) => (
        <div key={turn.exchangeId}>
          <Turn turn={turn} diff={diffs[turn.exchangeId]} />
          {view.children.filter((c) => c.afterTurn === i).map((c) => <Thread key={c.view.thread.id} view={c.view} diffs={diffs} depth={depth + 1} />)}
        </div>
      ))}
    </div>
  );
}

function Turn({ turn, diff }: { turn: TurnView; diff: RequestDiff | undefined }) {
  const failed = (turn.outcome !== null && turn.outcome !== 'completed') || (turn.status ?? 0) >= 400;
  return (
    <article class="turn" data-turn={turn.turn}>
      <header class="turn-head">
        <b>turn {turn.turn}</b>
        <span class="mono">{time(turn.startedAt)}</span>
        <span>{turn.model ?? '–'}</span>
        <span class={failed ? 'status bad' : 'status ok'}>{turn.status ?? turn.outcome ?? '–'}</span>
        <span>in {tokens(turn.promptTokens)} · cached {tokens(turn.cachedTokens)} · out {tokens(turn.outputTokens)}</span>
        <span class="cost">{usd(turn.costUsd, turn.apiEquivalent)}</span>
        <span class="dim">{ms(turn.latencyMs)} (TTFT {ms(turn.ttftMs)})</span>
        <a href={`#/exchange/${encodeURIComponent(turn.exchangeId)}`}>exchange</a>
      </header>
      {turn.cacheNote && <p class="cache-note">cache: {turn.cacheNote}</p>}
      {turn.context && (
        <details class="context">
          <summary>context: {turn.context.system ? `system prompt (${turn.context.system.length} chars)` : 'no system prompt'}{turn.context.tools.length ? `, tools: ${turn.context.tools.join(', ')}` : ''}</summary>
          {turn.context.system && <pre>{turn.context.system}</pre>}
        </details>
      )}
      {turn.added.map((m, i) => <Message key={i} message={m} />)}
      <div class="msg role-assistant answer">
        <div class="role">answer{turn.answer.stopReason ? <span class="dim"> ({turn.answer.stopReason})</span> : null}</div>
        <div class="blocks">
          {turn.answer.thinking && <Thinking text={turn.answer.thinking} />}
          {turn.answer.text && <Markdown text={turn.answer.text} />}
          {turn.answer.toolCalls.map((c, i) => <ToolCall key={i} name={c.name} args={c.arguments} id={c.id} />)}
        </div>
      </div>
      {diff && <Diff diff={diff} />}
    </article>
  );
}

function Diff({ diff }: { diff: RequestDiff }) {
  const parts = [
    diff.added.length ? `+${diff.added.length} message${diff.added.length === 1 ? '' : 's'}` : '',
    diff.removed.length ? `−${diff.removed.length} changed/removed` : '',
    diff.system ? 'system prompt changed' : '',
    diff.toolsAdded.length ? `+tools ${diff.toolsAdded.join(', ')}` : '',
    diff.toolsRemoved.length ? `−tools ${diff.toolsRemoved.join(', ')}` : '',
  ].filter(Boolean);
  return (
    <details class="diff">
      <summary>diff vs previous request: {parts.length ? parts.join(' · ') : 'no change'} <span class="dim">({diff.kept} message{diff.kept === 1 ? '' : 's'} kept)</span></summary>
      {diff.system && (
        <div class="sys-diff">
          <div class="removed"><div class="role">− system</div><pre>{diff.system.before ?? '(none)'}</pre></div>
          <div class="added"><div class="role">+ system</div><pre>{diff.system.after ?? '(none)'}</pre></div>
        </div>
      )}
      {diff.removed.map((m, i) => <Message key={`r${i}`} message={m} mark="−" />)}
      {diff.added.map((m, i) => <Message key={`a${i}`} message={m} mark="+" />)}
    </details>
  );
}
