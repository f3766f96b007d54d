import Database from 'better-sqlite3';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { assignGroup, type Grouping } from '../../src/sessions/group.js';
import { GROUP_KEYS_DDL, MemoryGroupIndex, SqliteGroupIndex, type GroupIndex } from '../../src/sessions/group-index.js';
import { answer, claudeCodeBody, claudeCodeHeaders, sdkConversation, summarize, type Wire } from './sessions-fixtures.js';

const T0 = Date.UTC(2026, 0, 5, 9, 0, 0);

function run(wires: Wire[], index: GroupIndex = new MemoryGroupIndex()): Grouping[] {
  return wires.map((w) => assignGroup(summarize(w), index));
}

const SID = '5f0c7a52-3d1e-4c8e-9b7a-2f4d1c0e9a11';
const TASK_PROMPT = 'Find the test that fails in test/app.test.ts and report the assertion that breaks.';

/** A Claude Code session: main thread, a Task subagent, a title-generation side request. */
function claudeCodeSession(withAgentHeader: boolean): Wire[] {
  const u1 = 'Fix the failing test';
  const taskCall = { type: 'tool_use', id: 'toolu_01Task', name: 'Task', input: { description: 'Find failing test', prompt: TASK_PROMPT, subagent_type: 'general-purpose' } };
  const main1: Wire = {
    id: 'x01', startedAt: T0, address: '127.0.0.1', toolName: 'claude-code', api: 'messages', headers: claudeCodeHeaders(SID),
    body: claudeCodeBody(SID, [{ role: 'user', content: u1 }]),
    answer: answer('I will delegate the search.', [{ id: 'toolu_01Task', name: 'Task', arguments: JSON.stringify(taskCall.input) }]),
  };
  const title: Wire = {
    id: 'x02', startedAt: T0 + 500, address: '127.0.0.1', toolName: 'claude-code', api: 'messages', headers: claudeCodeHeaders(SID),
    body: claudeCodeBody(SID, [{ role: 'user', content: u1 }], { system: 'Summarize this coding conversation in under 50 characters. Return JSON with a title field.', tools: [] }),
  };
  const agentHeaders = claudeCodeHeaders(SID, withAgentHeader ? 'agent-7f3e' : undefined);
  const subFirst = [{ type: 'text', text: '<system-reminder>\nAs you answer, use the tools available.\n</system-reminder>' }, { type: 'text', text: TASK_PROMPT }];
  const sub1: Wire = {
    id: 'x03', startedAt: T0 + 2000, address: '127.0.0.1', toolName: 'claude-code', api: 'messages', headers: agentHeaders,
    body: claudeCodeBody(SID, [{ role: 'user', content: subFirst }], { system: 'You are an agent for Claude Code.', tools: ['Bash', 'Read'] }),
  };
  const sub2: Wire = {
    ...sub1, id: 'x04', startedAt: T0 + 4000,
    body: claudeCodeBody(SID, [
      { role: 'user', content: subFirst },
      { role: 'assistant', content: [{ type: 'thinking', thinking: 'run it', signature: 'sig1' }, { type: 'tool_use', id: 'toolu_02', name: 'Bash', input: { command: 'npm test' } }] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_02', content: 'expected 2, got 3' }] },
    ], { system: 'You are an agent for Claude Code.', tools: ['Bash', 'Read'] }),
  };
  const main2: Wire = {
    ...main1, id: 'x05', startedAt: T0 + 6000, answer: answer('Fixed.'),
    body: claudeCodeBody(SID, [
      { role: 'user', content: u1 },
      { role: 'assistant', content: [{ type: 'text', text: 'I will delegate the search.' }, taskCall] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01Task', content: [{ type: 'text', text: 'app.test.ts:12 expected 2, got 3' }] }] },
    ]),
  };
  const main3: Wire = {
    ...main1, id: 'x06', startedAt: T0 + 9000, answer: answer('Done.'),
    body: claudeCodeBody(SID, [
      { role: 'user', content: u1 },
      { role: 'assistant', content: [{ type: 'text', text: 'I will delegate the search.' }, taskCall] },
      { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01Task', content: [{ type: 'text', text: 'app.test.ts:12 expected 2, got 3' }] }] },
      { role: 'assistant', content: 'Fixed.' },
      { role: 'user', content: 'Now run the whole suite' },
    ]),
  };
  return [main1, title, sub1, sub2, main2, main3];
}

describe('assignGroup: Claude Code', () => {
  it('puts main turns, a Task subagent (x-claude-code-agent-id) and a title request in one session, three threads', () => {
    const [main1, title, sub1, sub2, main2, main3] = run(claudeCodeSession(true));
    expect(main1).toEqual({ sessionId: SID, threadId: SID, turn: 1 });
    expect(title).toEqual({ sessionId: SID, threadId: `${SID}/side`, parentThreadId: SID, turn: 1 });
    const agentThread = { sessionId: SID, threadId: `${SID}/agent/agent-7f3e`, parentThreadId: SID, spawnedByToolCallId: 'toolu_01Task' };
    expect(sub1).toEqual({ ...agentThread, turn: 1 });
    expect(sub2).toEqual({ ...agentThread, turn: 2 });
    expect(main2).toEqual({ sessionId: SID, threadId: SID, turn: 2 });
    expect(main3).toEqual({ sessionId: SID, threadId: SID, turn: 3 });
  });

  it('finds the subagent by its prompt when no agent id is sent (older Claude Code)', () => {
    const [main1, , sub1, sub2, main2] = run(claudeCodeSession(false));
    expect(main1!.threadId).toBe(SID);
    const taskThread = { sessionId: SID, threadId: `${SID}/task/toolu_01Task`, parentThreadId: SID, spawnedByToolCallId: 'toolu_01Task' };
    expect(sub1).toEqual({ ...taskThread, turn: 1 });
    expect(sub2).toEqual({ ...taskThread, turn: 2 });
    expect(main2).toEqual({ sessionId: SID, threadId: SID, turn: 2 });
  });

  it('counts a resent identical request (retry after an overload) as the same turn', () => {
    const wires = claudeCodeSession(true);
    const groups = run([wires[0]!, { ...wires[0]!, id: 'x01b', startedAt: T0 + 100 }, wires[2]!, { ...wires[2]!, id: 'x03b' }, wires[3]!, wires[4]!]);
    const agent = `${SID}/agent/agent-7f3e`;
    expect(groups.map((g) => [g.threadId, g.turn])).toEqual([[SID, 1], [SID, 1], [agent, 1], [agent, 1], [agent, 2], [SID, 2]]);
  });
});

/** Codex CLI: Responses with session_id header, prompt_cache_key, store=false, items resent with reasoning. */
function codexTurns(sessionId: string, address: string, idPrefix: string, start: number): Wire[] {
  const headers = ['User-Agent', 'codex_cli_rs/0.46.0 (Ubuntu 24.4.0; x86_64) xterm-256color', 'originator', 'codex_cli_rs', 'session_id', sessionId];
  const base = [
    { type: 'message', role: 'developer', content: [{ type: 'input_text', text: '<permissions instructions>workspace-write</permissions instructions>' }] },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: '<environment_context><cwd>/repo</cwd></environment_context>' }] },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'list the files' }] },
  ];
  const call = [
    { type: 'reasoning', summary: [], encrypted_content: 'gAAAAABo-1' },
    { type: 'function_call', name: 'shell', arguments: '{"command":["ls"]}', call_id: 'call_1' },
    { type: 'function_call_output', call_id: 'call_1', output: 'README.md\nsrc' },
  ];
  const body = (input: unknown[]): Record<string, unknown> => ({
    model: 'gpt-5-codex', instructions: 'You are Codex, based on GPT-5.', input, tools: [{ type: 'function', name: 'shell' }],
    tool_choice: 'auto', parallel_tool_calls: false, reasoning: { effort: 'medium', summary: 'auto' }, store: false, stream: true,
    include: ['reasoning.encrypted_content'], prompt_cache_key: sessionId,
  });
  return [
    { id: `${idPrefix}1`, startedAt: start, address, toolName: 'codex', api: 'responses', headers, body: body(base) },
    { id: `${idPrefix}2`, startedAt: start + 3000, address, toolName: 'codex', api: 'responses', headers, body: body([...base, ...call]) },
    {
      id: `${idPrefix}3`, startedAt: start + 6000, address, toolName: 'codex', api: 'responses', headers,
      body: body([...base, ...call, { type: 'message', role: 'assistant', content: [{ type: 'output_text', text: 'Two entries.' }] }, { type: 'message', role: 'user', content: [{ type: 'input_text', text: 'thanks' }] }]),
    },
  ];
}

describe('assignGroup: Codex and the Responses API', () => {
  it('groups Codex turns by its session id', () => {
    const groups = run(codexTurns('0199a213-81c0-7800-8aa1-bbab2a035a53', '127.0.0.1', 'c', T0));
    expect(groups).toEqual([1, 2, 3].map((turn) => ({ sessionId: '0199a213-81c0-7800-8aa1-bbab2a035a53', threadId: '0199a213-81c0-7800-8aa1-bbab2a035a53', turn })));
  });

  it('follows previous_response_id chains to the thread of that response', () => {
    const wire = (id: string, at: number, body: Record<string, unknown>, responseId: string): Wire => ({
      id, startedAt: at, address: '10.1.1.1', toolName: 'openai-sdk', api: 'responses', headers: ['User-Agent', 'OpenAI/Python 1.109.0'], body, responseId,
    });
    const groups = run([
      wire('r1', T0, { model: 'gpt-5', input: 'Tell me a joke' }, 'resp_aaa'),
      wire('r2', T0 + 10, { model: 'gpt-5', input: 'Tell me a riddle' }, 'resp_bbb'),
      wire('r3', T0 + 20, { model: 'gpt-5', previous_response_id: 'resp_aaa', input: [{ role: 'user', content: 'Another one' }] }, 'resp_ccc'),
      wire('r4', T0 + 30, { model: 'gpt-5', previous_response_id: 'resp_ccc', input: [{ role: 'user', content: 'Explain it' }] }, 'resp_ddd'),
    ]);
    expect(groups.map((g) => [g.sessionId, g.turn])).toEqual([['r1', 1], ['r2', 1], ['r1', 2], ['r1', 3]]);
  });
});

describe('assignGroup: clients that send no ids (prompt-prefix chaining)', () => {
  const ids = (p: string): string[] => [1, 2, 3, 4, 5].map((i) => `${p}${i}`);

  it('chains five turns of an OpenAI SDK chat into one thread', () => {
    const groups = run(sdkConversation('alpha', 5, '10.0.0.5', ids('a'), T0));
    expect(groups).toEqual([1, 2, 3, 4, 5].map((turn) => ({ sessionId: 'a1', threadId: 'a1', turn })));
  });

  it('keeps two interleaved conversations from one client apart', () => {
    const a = sdkConversation('alpha', 5, '10.0.0.5', ids('a'), T0);
    const b = sdkConversation('beta', 5, '10.0.0.5', ids('b'), T0 + 500);
    const mixed = [a[0]!, b[0]!, b[1]!, a[1]!, a[2]!, b[2]!, b[3]!, b[4]!, a[3]!, a[4]!];
    const groups = new Map(mixed.map((w, i) => [w.id, run(mixed)[i]!]));
    for (const i of [1, 2, 3, 4, 5]) {
      expect(groups.get(`a${i}`)).toEqual({ sessionId: 'a1', threadId: 'a1', turn: i });
      expect(groups.get(`b${i}`)).toEqual({ sessionId: 'b1', threadId: 'b1', turn: i });
    }
  });

  it('starts a new session for a fresh conversation from the same client, and for the same opening after the retry window', () => {
    const first = sdkConversation('alpha', 3, '10.0.0.5', ids('a'), T0);
    const fresh = sdkConversation('gamma', 2, '10.0.0.5', ids('g'), T0 + 60_000);
    const again = sdkConversation('alpha', 2, '10.0.0.5', ids('n'), T0 + 3_600_000);
    const groups = run([...first, ...fresh, ...again]);
    expect(groups.map((g) => `${g.sessionId}#${g.turn}`)).toEqual(['a1#1', 'a1#2', 'a1#3', 'g1#1', 'g1#2', 'n1#1', 'n1#2']);
  });

  it('does not chain across clients, nor past the chain window', () => {
    const a = sdkConversation('alpha', 3, '10.0.0.5', ids('a'), T0);
    const other = sdkConversation('alpha', 3, '10.0.0.6', ids('o'), T0);
    const late = { ...a[2]!, id: 'late', startedAt: T0 + 7 * 3_600_000 };
    const groups = run([a[0]!, a[1]!, ...other, late]);
    expect(groups.map((g) => g.sessionId)).toEqual(['a1', 'a1', 'o1', 'o1', 'o1', 'late']);
  });

  it('chains Gemini CLI contents, whose resends drop thought parts and signatures', () => {
    const user = { role: 'user', parts: [{ text: 'What is in package.json?' }] };
    const call = { role: 'model', parts: [{ text: 'Reading the manifest', thought: true }, { functionCall: { name: 'read_file', args: { path: 'package.json' } }, thoughtSignature: 'CiQB0e2Kb' }] };
    const resentCall = { role: 'model', parts: [{ functionCall: { name: 'read_file', args: { path: 'package.json' } }, thoughtSignature: 'skip_thought_signature_validator' }] };
    const result = { role: 'user', parts: [{ functionResponse: { name: 'read_file', response: { output: '{"name":"x"}' } } }] };
    const wrap = (contents: unknown[]): Record<string, unknown> => ({
      model: 'gemini-2.5-pro', project: 'proj-1', user_prompt_id: 'p1',
      request: { contents, systemInstruction: { role: 'user', parts: [{ text: 'You are Gemini CLI.' }] }, tools: [{ functionDeclarations: [{ name: 'read_file' }] }] },
    });
    const wire = (id: string, at: number, contents: unknown[]): Wire => ({ id, startedAt: at, address: '127.0.0.1', toolName: 'gemini-cli', api: 'gemini.generateContent', headers: ['User-Agent', 'GeminiCLI/0.9.0 (linux; x64)'], body: wrap(contents) });
    const groups = run([
      wire('g1', T0, [user]),
      wire('g2', T0 + 1000, [user, call, result]),
      wire('g3', T0 + 2000, [user, resentCall, result, { role: 'model', parts: [{ text: 'It names x.' }] }, { role: 'user', parts: [{ text: 'thanks' }] }]),
    ]);
    expect(groups).toEqual([1, 2, 3].map((turn) => ({ sessionId: 'g1', threadId: 'g1', turn })));
  });
});

describe('assignGroup: a session is grouped the same whatever is interleaved with it', () => {
  it('holds for random interleavings of unrelated clients, conversations and sessions (fast-check)', () => {
    const streams: Wire[][] = [
      claudeCodeSession(true),
      sdkConversation('target', 5, '10.0.0.5', ['t1', 't2', 't3', 't4', 't5'], T0),
      sdkConversation('noise-a', 4, '10.0.0.5', ['na1', 'na2', 'na3', 'na4'], T0),
      sdkConversation('noise-b', 3, '127.0.0.1', ['nb1', 'nb2', 'nb3'], T0),
      // The same words from another client are another conversation.
      sdkConversation('target', 4, '10.0.0.99', ['ne1', 'ne2', 'ne3', 'ne4'], T0),
      codexTurns('0199aaaa-0000-7000-8000-000000000000', '127.0.0.1', 'nc', T0),
      claudeCodeSession(true).map((w, i) => ({ ...w, id: `nd${i}`, headers: claudeCodeHeaders('other-session', w.headers.includes('agent-7f3e') ? 'agent-9' : undefined), body: { ...w.body, metadata: {} } })),
    ];
    // Each stream grouped on its own, in a fresh index: what it must get whatever surrounds it.
    const alone = new Map<string, Grouping>();
    for (const stream of streams) run(stream).forEach((g, i) => alone.set(stream[i]!.id, g));
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: streams.length - 1 }), { minLength: 60, maxLength: 60 }), (picks) => {
      const cursors = streams.map(() => 0);
      const merged: Wire[] = [];
      const take = (s: number): void => {
        merged.push({ ...streams[s]![cursors[s]!]!, startedAt: T0 + merged.length * 1000 });
        cursors[s]!++;
      };
      for (const s of picks) if (cursors[s]! < streams[s]!.length) take(s);
      for (let s = 0; s < streams.length; s++) while (cursors[s]! < streams[s]!.length) take(s);
      const groups = run(merged);
      merged.forEach((w, i) => expect(groups[i], w.id).toEqual(alone.get(w.id)));
    }), { numRuns: 200 });
  });
});

describe('SqliteGroupIndex', () => {
  it('groups like the memory index, and prune forgets old keys', () => {
    const db = new Database(':memory:');
    db.exec(GROUP_KEYS_DDL);
    const index = new SqliteGroupIndex(db);
    const wires = [...claudeCodeSession(true), ...sdkConversation('alpha', 5, '10.0.0.5', ['a1', 'a2', 'a3', 'a4', 'a5'], T0)];
    expect(run(wires, index)).toEqual(run(wires));
    const count = (): number => (db.prepare('SELECT count(*) AS n FROM group_keys').get() as { n: number }).n;
    const before = count();
    expect(before).toBeGreaterThan(10);
    expect(index.prune(T0 + 5000)).toBeGreaterThan(0);
    expect(count()).toBeLessThan(before);
    index.prune(Number.MAX_SAFE_INTEGER);
    expect(count()).toBe(0);
  });
});
