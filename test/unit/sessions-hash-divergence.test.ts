import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readConversation, type Conversation, type ConversationMessage } from '../../src/sessions/conversation.js';
import { firstDivergence } from '../../src/sessions/divergence.js';
import { canonicalMessage, chainHashes, hashText, messageHash, systemHash, toolsHash } from '../../src/sessions/message-hash.js';
import { answerBlocks, responseIdFromBody, summarizeForGrouping } from '../../src/sessions/summary.js';
import { answer, claudeCodeBody } from './sessions-fixtures.js';

const conv = (api: string, body: unknown): Conversation => readConversation(api, body)!;
const SID = 'sess-1';

describe('message hashes', () => {
  it('survive Claude Code moving cache_control and turning strings into blocks between turns', () => {
    const turn1 = conv('messages', claudeCodeBody(SID, [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }, { role: 'user', content: 'fix it' }]));
    const turn2 = conv('messages', claudeCodeBody(SID, [{ role: 'user', content: 'hi' }, { role: 'assistant', content: 'hello' }, { role: 'user', content: 'fix it' }, { role: 'assistant', content: 'done' }, { role: 'user', content: 'thanks' }]));
    const a = chainHashes(turn1.messages);
    const b = chainHashes(turn2.messages);
    expect(b.slice(0, a.length)).toEqual(a);
    expect(b).toContain(a[a.length - 1]);
  });

  it('ignore whitespace drift in resent history (the newline after </system-reminder>), which firstDivergence still reports', () => {
    const withNewline = [{ role: 'user' as const, content: [{ type: 'text', text: '<system-reminder>ctx</system-reminder>\n' }, { type: 'text', text: 'fix it' }] }, { role: 'assistant' as const, content: 'ok' }];
    const without = [{ role: 'user' as const, content: [{ type: 'text', text: '<system-reminder>ctx</system-reminder>' }, { type: 'text', text: 'fix it' }] }, { role: 'assistant' as const, content: 'ok' }];
    const a = conv('messages', claudeCodeBody(SID, withNewline));
    const b = conv('messages', claudeCodeBody(SID, [...without, { role: 'user', content: 'more' }]));
    expect(chainHashes(b.messages)).toContain(chainHashes(a.messages)[1]);
    expect(firstDivergence({ ...a, messages: a.messages.slice(0, 1) }, a.messages[1]!.blocks, b)).toMatchObject({ what: 'message', index: 0, blockIndex: 0 });
  });

  it('ignore Responses item ids, status and encrypted reasoning; not the words', () => {
    const stored = conv('responses', { input: [
      { role: 'user', content: [{ type: 'input_text', text: 'go' }] },
      { type: 'reasoning', id: 'rs_1', summary: [], encrypted_content: 'gAAA-one' },
      { type: 'function_call', id: 'fc_1', status: 'completed', call_id: 'call_1', name: 'shell', arguments: '{"command": ["ls"], "timeout": 5}' },
    ] });
    const stripped = conv('responses', { input: [
      { type: 'message', role: 'user', content: 'go' },
      { type: 'function_call', call_id: 'call_1', name: 'shell', arguments: '{"timeout":5,"command":["ls"]}' },
    ] });
    expect(chainHashes(stored.messages)).toEqual(chainHashes(stripped.messages));
    const other = conv('responses', { input: [{ role: 'user', content: 'go!' }] });
    expect(chainHashes(other.messages)[0]).not.toBe(chainHashes(stripped.messages)[0]);
  });

  it('tell roles apart, skip reasoning-only messages, and keep system and tools out of the chain', () => {
    const user: ConversationMessage = { role: 'user', blocks: [{ type: 'text', text: 'x' }] };
    expect(messageHash(user)).not.toBe(messageHash({ role: 'assistant', blocks: [{ type: 'text', text: 'x' }] }));
    expect(messageHash({ role: 'assistant', blocks: [{ type: 'thinking', text: 'secret' }] })).toBeUndefined();
    expect(chainHashes([user, { role: 'assistant', blocks: [{ type: 'thinking', text: '' }] }])).toHaveLength(1);
    const a: Conversation = { system: 'A', tools: ['t'], messages: [user] };
    const b: Conversation = { system: 'B', tools: [], messages: [user] };
    expect(chainHashes(a.messages)).toEqual(chainHashes(b.messages));
    expect(systemHash(a)).not.toBe(systemHash(b));
    expect(toolsHash(a)).toBeDefined();
    expect(toolsHash(b)).toBeUndefined();
  });

  it('make a request extend another exactly when its messages start with the other’s (fast-check)', () => {
    const message = fc.record({ role: fc.constantFrom('user', 'assistant', 'tool'), text: fc.string({ minLength: 1, maxLength: 8 }) });
    fc.assert(fc.property(fc.array(message, { minLength: 1, maxLength: 12 }), fc.nat(), (raw, cut) => {
      const messages = raw.map((m) => ({ role: m.role, blocks: [{ type: 'text' as const, text: `${m.text}.` }] }));
      const k = 1 + (cut % messages.length);
      const full = chainHashes(messages);
      const prefix = chainHashes(messages.slice(0, k));
      expect(full.slice(0, k)).toEqual(prefix);
      // A change anywhere in the prefix changes every later chain hash.
      const changed = messages.map((m, i) => (i === k - 1 ? { ...m, blocks: [{ type: 'text' as const, text: `${m.blocks[0]!.text}!` }] } : m));
      expect(chainHashes(changed)).not.toContain(prefix[k - 1]);
    }));
  });
});

describe('message hash encoding', () => {
  // Archives keep these hashes as grouping keys: a turn recorded by any version must find
  // the keys an earlier version wrote, so the bytes hashed and the digest form never change.
  const reference = (...parts: string[]): string => {
    const h = createHash('sha256');
    for (const part of parts) h.update(part);
    return h.digest('base64url').slice(0, 22);
  };
  const text = fc.string({ unit: fc.constantFrom('a', 'é', '\u0000', '\u0002', '\ud83d', '\ude00', '😀', ' ', '\n'), maxLength: 40 });

  it('hashText and chainHashes digest the same bytes as the original incremental SHA-256 (fast-check, lone surrogates too)', () => {
    fc.assert(fc.property(text, fc.array(fc.record({ role: fc.constantFrom('user', 'assistant'), text }), { maxLength: 6 }), (single, items) => {
      expect(hashText(single)).toBe(reference(single));
      const messages: ConversationMessage[] = items.map((m) => ({ role: m.role as ConversationMessage['role'], blocks: [{ type: 'text', text: m.text }] }));
      const expected: string[] = [];
      let previous = '';
      for (const message of messages) {
        const canon = canonicalMessage(message);
        if (canon === undefined) continue;
        previous = reference(previous, '\u0002', canon);
        expected.push(previous);
      }
      expect(chainHashes(messages)).toEqual(expected);
    }), { numRuns: 300, seed: 5 });
  });
});

describe('firstDivergence', () => {
  const history = [{ role: 'user' as const, content: 'hi' }, { role: 'assistant' as const, content: 'hello' }, { role: 'user' as const, content: 'fix it' }];
  const prev = conv('messages', claudeCodeBody(SID, history));
  const reply = answerBlocks({ ...answer('On it.', [{ id: 'toolu_9', name: 'Bash', arguments: '{"command":"npm test"}' }]), thinking: 'plan' });
  const next: Parameters<typeof claudeCodeBody>[1] = [...history, { role: 'assistant' as const, content: [{ type: 'text', text: 'On it.' }, { type: 'tool_use', id: 'toolu_9', name: 'Bash', input: { command: 'npm test' } }] }, { role: 'user' as const, content: [{ type: 'tool_result', tool_use_id: 'toolu_9', content: 'ok' }] }];

  it('finds none when the request is the previous one plus its answer (cache markers moved)', () => {
    expect(firstDivergence(prev, reply, conv('messages', claudeCodeBody(SID, next)))).toBeUndefined();
  });

  it('points at a changed system prompt, changed tools, an edited message, an edited answer and truncation', () => {
    expect(firstDivergence(prev, reply, conv('messages', claudeCodeBody(SID, next, { system: 'Today is Tuesday.' })))).toMatchObject({ what: 'system' });
    expect(firstDivergence(prev, reply, conv('messages', claudeCodeBody(SID, next, { tools: ['Task', 'Bash', 'Read', 'Edit', 'mcp__db__query'] })))).toEqual({ what: 'tools', detail: 'tools changed: added mcp__db__query' });
    const edited = structuredClone(next);
    edited[2] = { role: 'user', content: [{ type: 'text', text: '<system-reminder>x</system-reminder>' }, { type: 'text', text: 'fix it' }] };
    expect(firstDivergence(prev, reply, conv('messages', claudeCodeBody(SID, edited)))).toMatchObject({ what: 'message', index: 2, blockIndex: 0 });
    const rewritten = structuredClone(next);
    rewritten[3] = { role: 'assistant', content: [{ type: 'text', text: 'On it.' }, { type: 'tool_use', id: 'toolu_9', name: 'Bash', input: { command: 'npm test -- --run' } }] };
    expect(firstDivergence(prev, reply, conv('messages', claudeCodeBody(SID, rewritten)))).toEqual({ what: 'message', index: 3, blockIndex: 1, detail: 'arguments of tool call Bash differ' });
    expect(firstDivergence(prev, reply, conv('messages', claudeCodeBody(SID, [{ role: 'user', content: 'summary of earlier work' }])))).toMatchObject({ what: 'message', index: 0 });
    expect(firstDivergence(prev, reply, conv('messages', claudeCodeBody(SID, history.slice(0, 2))))).toMatchObject({ what: 'message', index: 2 });
  });
});

describe('summarizeForGrouping and responseIdFromBody', () => {
  it('collects chain, hashes, spawn prompts from the answer and the first user text without reminders', () => {
    const body = claudeCodeBody(SID, [{ role: 'user', content: [{ type: 'text', text: '<system-reminder>ctx</system-reminder>' }, { type: 'text', text: 'Do X' }] }]);
    const s = summarizeForGrouping({
      id: 'e1', startedAt: 1, client: { address: '127.0.0.1' }, api: 'messages', request: body,
      answer: answer('', [{ id: 'toolu_T', name: 'Task', arguments: '{"description":"d","prompt":"Find Y"}' }, { id: 'toolu_B', name: 'Bash', arguments: '{}' }]),
    });
    expect(s.chain).toHaveLength(1);
    expect(s.systemHash).toBeDefined();
    expect(s.toolsHash).toBeDefined();
    expect(s.spawnPrompts?.map((p) => p.toolCallId)).toEqual(['toolu_T']);
    const sub = summarizeForGrouping({ id: 'e2', startedAt: 2, client: { address: '127.0.0.1' }, api: 'messages', request: claudeCodeBody(SID, [{ role: 'user', content: 'Find Y' }]) });
    expect(sub.firstUserHash).toBe(s.spawnPrompts![0]!.promptHash);
    expect(summarizeForGrouping({ id: 'e3', startedAt: 3, client: { address: 'a' }, api: 'realtime', request: { type: 'session.update' } }).chain).toEqual([]);
    // A lookup is known by its whole body (the same one sent again is its retry only if it failed: group.ts).
    const embed = (input: string) => summarizeForGrouping({ id: 'e4', startedAt: 4, client: { address: 'a' }, api: 'embeddings', request: { model: 'm', input } }).chain;
    expect(embed('x')).toHaveLength(1);
    expect(embed('x')).toEqual(embed('x'));
    expect(embed('y')).not.toEqual(embed('x'));
  });

  it('reads the Responses id from a JSON answer and from the first SSE event', () => {
    expect(responseIdFromBody('{"id":"resp_123","object":"response","output":[]}')).toBe('resp_123');
    const sse = 'event: response.created\ndata: {"type":"response.created","response":{"id":"resp_abc","object":"response"}}\n\nevent: response.completed\ndata: {"type":"response.completed","response":{"id":"resp_abc"}}\n\n';
    expect(responseIdFromBody(sse)).toBe('resp_abc');
    expect(responseIdFromBody('{"id":"chatcmpl-1","object":"chat.completion"}')).toBeUndefined();
    expect(responseIdFromBody('not json')).toBeUndefined();
  });
});
