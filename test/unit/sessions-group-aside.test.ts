import { describe, expect, it } from 'vitest';
import { assignGroup, type ExchangeSummary } from '../../src/sessions/group.js';
import { isAside, placeAside } from '../../src/sessions/group-aside.js';
import { MemoryGroupIndex, type GroupIndex } from '../../src/sessions/group-index.js';
import { answer, claudeCodeBody, claudeCodeHeaders, summarize, type AnthropicMessage, type Wire } from './sessions-fixtures.js';

/**
 * Token counts (Anthropic's count_tokens, Gemini's and Bedrock's countTokens) are asides:
 * they join the session they belong to, when anything links them, but take no turn and
 * do not move a thread on; a count nothing links to is in no session.
 */
const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);
const SID = '0d9b6c1e-7a41-4f3a-9a55-31c0c4f2b7e8';

/** Turn-taking exchanges through assignGroup, asides through placeAside, as the archive writer does. */
function place(summaries: ExchangeSummary[], index: GroupIndex = new MemoryGroupIndex()): unknown[] {
  return summaries.map((s) => (isAside(s) ? { aside: placeAside(s, index) } : assignGroup(s, index)));
}

function claudeCode(id: string, at: number, api: string, messages: AnthropicMessage[], text?: string): ExchangeSummary {
  const wire: Wire = { id, startedAt: T0 + at, address: '127.0.0.1', toolName: 'claude-code', api, headers: claudeCodeHeaders(SID), body: claudeCodeBody(SID, messages, { tools: ['Bash', 'Read'] }) };
  if (text !== undefined) wire.answer = answer(text);
  return summarize(wire);
}

/** What the Anthropic SDK sends: no ids; a count is a Messages body without max_tokens. */
function sdk(id: string, at: number, api: 'messages' | 'messages.countTokens', messages: AnthropicMessage[], address = '127.0.0.1'): ExchangeSummary {
  const body: Record<string, unknown> = { model: 'claude-sonnet-4-5', messages, tools: [{ name: 'get_weather', input_schema: { type: 'object' } }] };
  if (api === 'messages') body.max_tokens = 1024;
  return summarize({ id, startedAt: T0 + at, address, api, headers: [], body, answer: api === 'messages' ? answer('Sunny.') : undefined });
}

const U1: AnthropicMessage = { role: 'user', content: 'Weather in Paris?' };
const A1: AnthropicMessage = { role: 'assistant', content: 'Sunny.' };
const U2: AnthropicMessage = { role: 'user', content: 'And in Rome?' };

describe('token counts are asides', () => {
  it('Claude Code\'s count_tokens mid-session joins the session by its session id, takes no turn and does not move the thread on', () => {
    const groups = place([
      claudeCode('m1', 0, 'messages', [U1], 'Sunny.'),
      claudeCode('c1', 1000, 'messages.countTokens', [{ role: 'user', content: 'Bash: run a command' }]),
      claudeCode('m2', 2000, 'messages', [U1, A1, U2], 'Rainy.'),
      claudeCode('c2', 3000, 'messages.countTokens', [U1, A1, U2]),
    ]);
    expect(groups).toEqual([
      { sessionId: SID, threadId: SID, turn: 1 },
      { aside: { sessionId: SID, threadId: SID } },
      { sessionId: SID, threadId: SID, turn: 2 },
      { aside: { sessionId: SID, threadId: SID } },
    ]);
  });

  it('a count before the first message of a Claude Code session names the session all the same', () => {
    const groups = place([
      claudeCode('c1', 0, 'messages.countTokens', [U1]),
      claudeCode('m1', 1000, 'messages', [U1], 'Sunny.'),
    ]);
    expect(groups).toEqual([{ aside: { sessionId: SID, threadId: SID } }, { sessionId: SID, threadId: SID, turn: 1 }]);
  });

  it('without ids, a count whose messages extend an earlier request of the same client joins that thread; the next request is its next turn', () => {
    const groups = place([
      sdk('m1', 0, 'messages', [U1]),
      sdk('c1', 1000, 'messages.countTokens', [U1, A1, U2]),
      sdk('m2', 2000, 'messages', [U1, A1, U2]),
      // The same count again: no retry, no turn.
      sdk('c2', 3000, 'messages.countTokens', [U1, A1, U2]),
    ]);
    expect(groups).toEqual([
      { sessionId: 'm1', threadId: 'm1', turn: 1 },
      { aside: { sessionId: 'm1', threadId: 'm1' } },
      { sessionId: 'm1', threadId: 'm1', turn: 2 },
      { aside: { sessionId: 'm1', threadId: 'm1' } },
    ]);
  });

  it('a count nothing links to is in no session (it does not start one), and leaves nothing a later request could continue', () => {
    const index = new MemoryGroupIndex();
    const groups = place([
      sdk('c1', 0, 'messages.countTokens', [U1]),
      // Another client's conversation is not a link.
      sdk('m1', 1000, 'messages', [U1], '10.0.0.9'),
      sdk('c2', 2000, 'messages.countTokens', [U1, A1, U2]),
      sdk('m2', 3000, 'messages', [U1]),
    ], index);
    expect(groups).toEqual([
      { aside: undefined },
      { sessionId: 'm1', threadId: 'm1', turn: 1 },
      { aside: undefined },
      { sessionId: 'm2', threadId: 'm2', turn: 1 },
    ]);
  });

  it('Gemini\'s countTokens (contents, or a wrapped generateContentRequest) joins the conversation it counts', () => {
    const gemini = (id: string, at: number, api: string, body: Record<string, unknown>): ExchangeSummary =>
      summarize({ id, startedAt: T0 + at, address: '127.0.0.1', toolName: 'gemini-cli', api, headers: [], body, answer: api === 'gemini.generateContent' ? answer('Sunny.') : undefined });
    const c1 = [{ role: 'user', parts: [{ text: 'Weather in Paris?' }] }];
    const c2 = [...c1, { role: 'model', parts: [{ text: 'Sunny.' }] }, { role: 'user', parts: [{ text: 'And in Rome?' }] }];
    const groups = place([
      gemini('g1', 0, 'gemini.generateContent', { contents: c1 }),
      gemini('k1', 500, 'gemini.countTokens', { contents: c2 }),
      gemini('k2', 600, 'gemini.countTokens', { generateContentRequest: { model: 'models/gemini-2.5-pro', contents: c2 } }),
      gemini('g2', 1000, 'gemini.generateContent', { contents: c2 }),
    ]);
    expect(groups).toEqual([
      { sessionId: 'g1', threadId: 'g1', turn: 1 },
      { aside: { sessionId: 'g1', threadId: 'g1' } },
      { aside: { sessionId: 'g1', threadId: 'g1' } },
      { sessionId: 'g1', threadId: 'g1', turn: 2 },
    ]);
  });

  it('every token-counting API is an aside; nothing else is', () => {
    const of = (api: string): boolean => isAside({ id: 'x', startedAt: T0, clientAddress: '127.0.0.1', api, chain: [] });
    expect(['messages.countTokens', 'gemini.countTokens', 'bedrock.countTokens'].map(of)).toEqual([true, true, true]);
    expect(['messages', 'rerank', 'embeddings', 'completions'].map(of)).toEqual([false, false, false, false]);
  });
});
