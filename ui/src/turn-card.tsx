import { knownCost } from '../../src/cost/unpriced-count.js';
import { turnKey, type RequestDiff, type TurnView } from './api.js';
import { Decisions, EstimatedMark, LongText, Message, Thinking, ToolCall } from './blocks.js';
import { costFact, counted, ms, time, tokens, TTFT_TITLE } from './format.js';
import { Status, statusItem } from './list-view.js';

/** One turn: its figures, the policy's decisions, what was new in the request, the answer, and the diff against the previous request. */
export function Turn({ turn, diff, current, linkExchange = true }: { turn: TurnView; diff?: RequestDiff | undefined; current?: boolean; linkExchange?: boolean }) {
  return (
    <article class={current ? 'turn replay-current' : 'turn'} data-turn={turn.turn} data-exchange={turn.exchangeId} data-key={turnKey(turn)}>
      <header class="turn-head">
        <b>turn {turn.turn}</b>
        <span class="mono">{time(turn.startedAt)}</span>
        <span>{turn.model ?? '–'}</span>
        {/* As the list, tail and `show` write it: `200 overloaded_error` for a stream the provider ended with its error. */}
        <Status item={statusItem(turn.status, turn.outcome, null, turn.answer.stopReason)} />
        <span>in {tokens(turn.promptTokens)} · cached {tokens(turn.cachedTokens)} · out {tokens(turn.outputTokens)}{turn.estimated && <EstimatedMark part={turn.estimated} />}{turn.usageUnknown && <span class="dim" title={turn.usageUnknown}> (tokens not known: {turn.usageUnknown})</span>}</span>
        <span class="cost" title={turn.costUnknown ? `cost not known: ${turn.costUnknown}` : undefined}>{costFact(knownCost({ cost_usd: turn.costUsd, outcome: turn.outcome, status: turn.status, input_tokens: turn.promptTokens, output_tokens: turn.outputTokens }), turn.apiEquivalent)}</span>
        <span class="dim">{ms(turn.latencyMs)} (<span title={TTFT_TITLE}>TTFT</span> {ms(turn.ttftMs)})</span>
        {linkExchange && <a href={`#/exchange/${encodeURIComponent(turn.exchangeId)}`}>exchange</a>}
      </header>
      {turn.policy && <div class="policy-box turn-policy"><b>policy</b><Decisions record={turn.policy} /></div>}
      {turn.cacheNote && <p class="cache-note">cache: {turn.cacheNote}</p>}
      {turn.costUnknown && <p class="dim">cost not known: {turn.costUnknown}</p>}
      {turn.context && (
        <details class="context">
          <summary>context: {turn.context.system ? `system prompt (${counted(turn.context.system.length, 'char')})` : 'no system prompt'}{turn.context.tools.length ? `, tools: ${turn.context.tools.join(', ')}` : ''}</summary>
          {turn.context.system && <pre>{turn.context.system}</pre>}
        </details>
      )}
      {turn.added.map((m, i) => <Message key={i} message={m} />)}
      <div class="msg role-assistant answer">
        <div class="role">answer{turn.answer.stopReason ? <span class="dim"> ({turn.answer.stopReason})</span> : null}</div>
        <div class="blocks">
          {turn.answer.thinking && <Thinking text={turn.answer.thinking} />}
          {turn.answer.text && <LongText text={turn.answer.text} />}
          {turn.answer.toolCalls.map((c, i) => <ToolCall key={i} name={c.name} args={c.arguments} id={c.id} />)}
        </div>
      </div>
      {diff && <Diff diff={diff} />}
    </article>
  );
}

function Diff({ diff }: { diff: RequestDiff }) {
  const parts = [
    diff.added.length ? `+${counted(diff.added.length, 'message')}` : '',
    diff.removed.length ? `−${diff.removed.length} changed/removed` : '',
    diff.system ? 'system prompt changed' : '',
    diff.toolsAdded.length ? `+tools ${diff.toolsAdded.join(', ')}` : '',
    diff.toolsRemoved.length ? `−tools ${diff.toolsRemoved.join(', ')}` : '',
  ].filter(Boolean);
  return (
    <details class="diff">
      <summary>diff vs previous request: {parts.length ? parts.join(' · ') : 'no change'} <span class="dim">({counted(diff.kept, 'message')} kept)</span></summary>
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
