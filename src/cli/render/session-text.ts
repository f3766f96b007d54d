import type { SessionSummary } from '../../archive/store.js';
import type { Block, ConversationMessage } from '../../sessions/conversation.js';
import type { ThreadView, TurnView } from '../../sessions/turns.js';
import { retryFlags } from '../../sessions/replay-timeline.js';
import { counted, duration, localTime, statusLabel, terminalSafe, tokens, usd } from './format.js';
import { quotaText } from './quota.js';
import { billedBesideTokens, tokenFigures } from './usage-parts-text.js';
import { estimatedMark } from '../../archive/estimated-part.js';
import { decisionLines } from './policy-text.js';
import { bold, cyan, dim, red } from './table.js';

export interface RenderOptions {
  /** Markdown for pasting into an issue instead of terminal text. */
  markdown: boolean;
  color: boolean;
  /** Show thinking in full instead of one collapsed line. */
  thinking: boolean;
  /** Longest text shown per block before it is cut (0: no limit). */
  maxText: number;
}

/**
 * A session as text: its header, then each thread turn by turn, subagents indented where
 * they were spawned. `asides`: the token counts asked in it, no turns (sessions/group-aside.ts).
 */
export function renderSession(session: SessionSummary, threads: ThreadView[], o: RenderOptions, asides = 0): string {
  const out: string[] = [];
  // Turns as shown: a Codex WebSocket session is one exchange with a turn per request.
  const { turns, retries } = countTurns(threads);
  const turnCount = `${counted(turns, 'turn')}${retries === 0 ? '' : ` (+${retries === 1 ? '1 retry' : `${retries} retries`})`}${asides === 0 ? '' : `, ${counted(asides, 'token count')}`}`;
  const cost = usd(session.costUsd, { apiEquivalent: session.apiEquivalent, partial: session.unpriced > 0 && session.costUsd !== null });
  if (o.markdown) {
    out.push(`# Session ${session.id}`, '');
    out.push(`- **tool**: ${session.tool ?? '-'} · **models**: ${session.models.join(', ') || '-'}`);
    out.push(`- **started**: ${new Date(session.startedAt).toISOString()} · **duration**: ${duration(session.endedAt - session.startedAt)}`);
    out.push(`- **turns**: ${turnCount} in ${counted(session.threads, 'thread')} · **tokens**: in ${tokens(session.inputTokens)} (cached ${tokens(session.cachedInputTokens)}) out ${tokens(session.outputTokens)} · **cost**: ${cost}${session.apiEquivalent ? ' (API-equivalent)' : ''} · **quota**: ${quotaText(session.quota)}`, '');
  } else {
    const title = `session ${session.id}`;
    out.push(o.color ? bold(title) : title);
    out.push(`  ${session.tool ?? '-'} · ${session.models.join(', ') || '-'} · ${localTime(session.startedAt)} · ${duration(session.endedAt - session.startedAt)}`);
    out.push(`  ${turnCount}, ${counted(session.threads, 'thread')} · in ${tokens(session.inputTokens)} (cached ${tokens(session.cachedInputTokens)}) out ${tokens(session.outputTokens)} · ${cost}${session.apiEquivalent ? ' API-equivalent' : ''} · quota ${quotaText(session.quota)}`, '');
  }
  for (const thread of threads) renderThread(thread, 0, o, out);
  return terminalSafe(`${out.join('\n').replace(/\n{3,}/g, '\n\n')}\n`);
}

/** Turns and retries (an identical resend keeps its turn's number: sessions/group.ts) over every thread. */
function countTurns(threads: readonly ThreadView[]): { turns: number; retries: number } {
  let turns = 0;
  let retries = 0;
  for (const t of threads) {
    for (const retry of retryFlags(t)) {
      if (retry) retries++;
      else turns++;
    }
    const inner = countTurns(t.children.map((c) => c.view));
    turns += inner.turns;
    retries += inner.retries;
  }
  return { turns, retries };
}

/** The thread a session's requests offering no tools go to (sessions/group.ts names it `<session>/side`). */
function isSideThread(id: string): boolean {
  return id.endsWith('/side');
}

function renderThread(view: ThreadView, depth: number, o: RenderOptions, out: string[]): void {
  const indent = o.markdown ? '' : '  '.repeat(depth);
  const t = view.thread;
  const label = depth === 0 ? `thread ${t.id}`
    : isSideThread(t.id) ? `side thread ${t.id} (requests offering no tools: titles, summaries, probes)`
    : `subagent thread ${t.id}${t.agentId ? ` (agent ${t.agentId})` : ''}`;
  out.push(o.markdown ? `${'#'.repeat(Math.min(6, depth + 2))} ${label}` : indent + (o.color ? bold(label) : label), '');
  const retries = retryFlags(view);
  view.turns.forEach((turn, i) => {
    renderTurn(turn, indent, o, out, retries[i]);
    for (const child of view.children.filter((c) => c.afterTurn === i)) {
      const spawned = child.toolCallId ? ` spawned by tool call ${child.toolCallId}` : '';
      const kind = isSideThread(child.view.thread.id) ? 'side requests' : 'subagent';
      out.push(o.markdown ? `> ${kind}${spawned}:` : `${indent}  ↳ ${kind}${spawned}`, '');
      renderThread(child.view, depth + 1, o, out);
    }
  });
}

/** One turn as text lines (for `replay`, which shows turns one at a time). */
export function renderTurnLines(turn: TurnView, depth: number, o: RenderOptions, retry = false): string[] {
  const out: string[] = [];
  renderTurn(turn, o.markdown ? '' : '  '.repeat(depth), o, out, retry);
  return out.map(terminalSafe);
}

function renderTurn(turn: TurnView, indent: string, o: RenderOptions, out: string[], retry = false): void {
  const status = statusLabel(turn.status, turn.outcome, turn.answer.stopReason);
  const facts = [
    `turn ${turn.turn}${retry ? ' (retry)' : ''}`, localTime(turn.startedAt), turn.model ?? '-', status.failed && o.color ? red(status.text) : status.text,
    `${duration(turn.latencyMs)} (TTFT ${duration(turn.ttftMs)})`,
    // The terminal's turn line writes unreported prompt tokens as the 0 it always has (its tests and scripts read it so); the web UI writes `–`.
    `${tokenFigures(turn.promptTokens ?? 0, turn.cachedTokens ?? 0, turn.outputTokens, turn.usageParts)}${estimatedMark(turn.estimated)}`,
    ...billedBesideTokens(turn.usageParts), usd(turn.costUsd, { apiEquivalent: turn.apiEquivalent }), turn.exchangeId,
  ].join(' · ');
  out.push(o.markdown ? `**${facts}**` : `${indent}${o.color ? cyan(`── ${facts}`) : `── ${facts}`}`);
  if (turn.policy) for (const line of decisionLines(turn.policy)) out.push(o.markdown ? `> policy: ${line}` : `${indent}   policy: ${o.color ? dim(line) : line}`);
  if (turn.cacheNote) out.push(o.markdown ? `> ⚠ ${turn.cacheNote}` : `${indent}   ! ${turn.cacheNote}`);
  for (const line of turn.routing ?? []) out.push(o.markdown ? `_${line}_` : `${indent}   ${o.color ? dim(line) : line}`);
  // After the routing lines: the price was asked where the request went.
  if (turn.costUnknown) {
    const line = `cost not known: ${turn.costUnknown}`;
    out.push(o.markdown ? `_${line}_` : `${indent}   ${o.color ? dim(line) : line}`);
  }
  if (turn.usageUnknown) {
    const line = `tokens not known: ${turn.usageUnknown}`;
    out.push(o.markdown ? `_${line}_` : `${indent}   ${o.color ? dim(line) : line}`);
  }
  if (turn.context) {
    const system = turn.context.system ? `system prompt ${turn.context.system.length} chars` : 'no system prompt';
    const line = `${system}; ${turn.context.tools.length} tools${turn.context.tools.length ? `: ${turn.context.tools.slice(0, 12).join(', ')}${turn.context.tools.length > 12 ? ', …' : ''}` : ''}`;
    out.push(o.markdown ? `_${line}_` : `${indent}   ${o.color ? dim(line) : line}`);
  }
  for (const m of turn.added) renderMessage(m, indent, o, out);
  const answer: Block[] = [];
  if (turn.answer.thinking) answer.push({ type: 'thinking', text: turn.answer.thinking });
  if (turn.answer.text) answer.push({ type: 'text', text: turn.answer.text });
  for (const c of turn.answer.toolCalls) answer.push({ type: 'tool_call', id: c.id ?? undefined, name: c.name, arguments: c.arguments });
  if (answer.length > 0) renderMessage({ role: 'assistant', blocks: answer }, indent, o, out);
  if (turn.answer.stopReason && turn.answer.stopReason !== 'end_turn' && turn.answer.stopReason !== 'stop') {
    out.push(o.markdown ? `_stop: ${turn.answer.stopReason}_` : `${indent}   ${o.color ? dim(`stop: ${turn.answer.stopReason}`) : `stop: ${turn.answer.stopReason}`}`);
  }
  out.push('');
}

function renderMessage(m: ConversationMessage, indent: string, o: RenderOptions, out: string[]): void {
  for (const block of m.blocks) {
    const [tag, body] = blockText(block, o);
    if (o.markdown) {
      out.push(`**${m.role}** ${tag}`.trimEnd());
      if (body) out.push('', fence(body), '');
    } else {
      const head = `${indent}   ${m.role.padEnd(9)} ${tag}`.trimEnd();
      out.push(o.color ? (m.role === 'assistant' ? bold(head) : head) : head);
      if (body) for (const line of body.split('\n')) out.push(`${indent}     ${line}`);
    }
  }
}

/** A block's label and text; thinking is one line unless asked for. */
function blockText(block: Block, o: RenderOptions): [string, string] {
  switch (block.type) {
    case 'text':
      return [block.label ? `[${block.label}]` : '', cut(block.text, o.maxText)];
    case 'thinking':
      return o.thinking ? ['[thinking]', cut(block.text, o.maxText)] : [`[thinking: ${block.text.length} chars, --thinking to show]`, ''];
    case 'tool_call':
      return [`[tool call ${block.name}${block.id ? ` ${block.id}` : ''}]`, cut(block.arguments, o.maxText)];
    case 'tool_result':
      return [`[tool result${block.id ? ` ${block.id}` : ''}${block.isError ? ', error' : ''}]`, cut(block.text, o.maxText)];
    default:
      return [`[${block.kind}]`, ''];
  }
}

function cut(text: string, max: number): string {
  if (max <= 0 || text.length <= max) return text;
  return `${text.slice(0, max)}… (${text.length - max} more chars)`;
}

/** A fence longer than any backtick run inside, so captured text can never close it. */
function fence(text: string): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}\n${text}\n${ticks}`;
}
