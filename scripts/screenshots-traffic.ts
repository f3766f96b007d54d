/**
 * The traffic behind the README's screenshots (scripts/screenshots.ts): a few days of
 * sessions from different tools, providers, models and proxy users, as their clients send
 * it. The fake provider mirrors each request body back as the answer, so one body is both
 * the request a tool sends and the answer it gets: its text and usage are chosen here.
 */
import { ProxyAgent, request } from 'undici';

/** A moment in the archive's story: `daysAgo` days back at this hour (UTC). */
export interface Phase {
  daysAgo: number;
  hour: number;
  /** Seconds between the phase's requests, as a person or an agent paces them. */
  paceS: number;
}

export interface TrafficTarget {
  url: string;
  caPem: string;
  /** Marks the start and end of a phase's requests, so their times can be moved to when the phase says. */
  phase(p: Phase, send: () => Promise<void>): Promise<void>;
}

const basic = (user: string) => `Basic ${Buffer.from(`${user}:${user}-pass`).toString('base64')}`;
export const USERS = ['alice', 'bob', 'carol'] as const;

type Json = Record<string, unknown>;

export async function sendTraffic(t: TrafficTarget): Promise<void> {
  const agents = new Map(USERS.map((u) => [u, new ProxyAgent({ uri: t.url, token: basic(u), requestTls: { ca: t.caPem } })]));
  const send = async (user: (typeof USERS)[number], url: string, headers: Record<string, string>, body: Json): Promise<number> => {
    const res = await request(url, { method: 'POST', dispatcher: agents.get(user)!, body: JSON.stringify(body), headers: { 'content-type': 'application/json', 'x-fake-mirror': '1', ...headers } });
    await res.body.text();
    return res.statusCode;
  };
  const claudeCode = { 'user-agent': 'claude-cli/2.0.14 (external, cli)', 'x-api-key': 'sk-ant-api03-screens-0123456789abcdef', 'anthropic-version': '2023-06-01', 'x-app': 'cli' };
  const anthropic = (user: (typeof USERS)[number], headers: Record<string, string>, body: Json) => send(user, 'https://api.anthropic.com/v1/messages', headers, body);

  /** A Claude Code agent loop: each turn resends the conversation with the last answer and its tool's result. */
  const claudeCodeLoop = async (user: (typeof USERS)[number], ask: string, steps: Step[]): Promise<void> => {
    let messages: Json[] = [{ role: 'user', content: ask }];
    for (const [i, step] of steps.entries()) {
      await anthropic(user, claudeCode, {
        model: 'claude-sonnet-4-5', max_tokens: 32000, system: 'You are Claude Code, an interactive CLI tool that helps users with software engineering tasks.',
        tools: CLAUDE_TOOLS, messages,
        id: `msg_01screens${i}`, type: 'message', role: 'assistant', content: step.answer, stop_reason: step.result ? 'tool_use' : 'end_turn', stop_sequence: null,
        usage: { input_tokens: 6 + i * 3, cache_creation_input_tokens: i === 0 ? 14210 : 900 + i * 310, cache_read_input_tokens: i === 0 ? 0 : 14210 + i * 1450, output_tokens: step.output },
      });
      const toolUse = step.answer.find((b) => b.type === 'tool_use');
      if (!toolUse || !step.result) break;
      messages = [...messages, { role: 'assistant', content: step.answer }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: step.result }] }];
    }
    // Claude Code names the conversation with its small model.
    await anthropic(user, claudeCode, {
      model: 'claude-haiku-4-5', max_tokens: 512, messages: [{ role: 'user', content: `Summarize this coding conversation in under 50 characters: ${ask.split('\n')[0]}` }],
      id: 'msg_01screenstitle', type: 'message', role: 'assistant', content: [{ type: 'text', text: 'Coding session' }], stop_reason: 'end_turn', stop_sequence: null,
      usage: { input_tokens: 152, output_tokens: 9 },
    });
  };

  // Alice asks Claude Code about a flaky test, pasting the CI log.
  await t.phase({ daysAgo: 4, hour: 9, paceS: 40 }, () => claudeCodeLoop('alice', `The retry test is flaky on CI. Here is the failing run:\n\n${ciLog()}\n\nCan you find out why and fix it?`, FLAKY_TEST));
  // Bob adds an option with Claude Code two days later, Alice another today.
  await t.phase({ daysAgo: 2, hour: 15, paceS: 55 }, () => claudeCodeLoop('bob', 'Add a --since option to the usage command, like the one report has.', SINCE_OPTION));
  await t.phase({ daysAgo: 0, hour: 8, paceS: 35 }, () => claudeCodeLoop('alice', 'Rename fetchRows to readRows everywhere and run the tests.', RENAME));

  // Bob pair-programs with aider on GPT-4.1 (Chat Completions through litellm).
  await t.phase({ daysAgo: 3, hour: 14, paceS: 95 }, async () => {
    const aider = { 'user-agent': 'OpenAI/Python 1.99.9', 'http-referer': 'https://aider.chat', 'x-title': 'Aider', authorization: 'Bearer sk-proj-screens-0123456789abcdef' };
    const asks = [
      ['Add a --json flag to the export command', 'Here is the change to `src/cli/export.ts`:\n\n```ts\nif (args.json) return writeJson(rows);\n```'],
      ['Now add a test for it', 'I added `test/export-json.test.ts`, which runs the command and parses its output.'],
      ['The test fails on Windows line endings', 'Split on `/\\r?\\n/` instead of `"\\n"`; the test passes on both now.'],
    ] as const;
    const history: Json[] = [{ role: 'system', content: 'Act as an expert software developer.' }];
    for (const [i, [ask, reply]] of asks.entries()) {
      history.push({ role: 'user', content: ask });
      await send('bob', 'https://api.openai.com/v1/chat/completions', aider, {
        model: 'gpt-4.1', max_tokens: 8192, messages: history, id: `chatcmpl-screens${i}`, object: 'chat.completion', created: 1_700_000_000,
        choices: [{ index: 0, message: { role: 'assistant', content: reply }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 3900 + i * 1200, completion_tokens: 180 + i * 40, total_tokens: 4080 + i * 1240, prompt_tokens_details: { cached_tokens: i * 2400 } },
      });
      history.push({ role: 'assistant', content: reply });
    }
  });

  // Carol works in Gemini CLI.
  await t.phase({ daysAgo: 2, hour: 11, paceS: 60 }, async () => {
    const gemini = { 'user-agent': 'GeminiCLI/0.9.0 (linux; x64)', 'x-goog-api-key': 'AIzaScreens0123456789abcdefghijklmnopq' };
    const contents: Json[] = [];
    const turns = [
      ['What does the `--since` option of the report command accept?', 'It takes a duration such as `7d` or `12h`, or an ISO date.'],
      ['Write a shell one-liner that reports the last week as CSV', '```sh\nreport --since 7d --format csv > week.csv\n```'],
      ['And only failed requests?', 'Add `--status error`: `report --since 7d --status error --format csv`.'],
    ] as const;
    for (const [i, [ask, reply]] of turns.entries()) {
      contents.push({ role: 'user', parts: [{ text: ask }] });
      await send('carol', 'https://generativelanguage.googleapis.com/v1beta/models/gemini-2.5-pro:generateContent', gemini, {
        contents, systemInstruction: { parts: [{ text: 'You are Gemini CLI, an interactive agent.' }] },
        candidates: [{ content: { role: 'model', parts: [{ text: reply }] }, finishReason: 'STOP', index: 0 }],
        usageMetadata: { promptTokenCount: 8200 + i * 900, candidatesTokenCount: 60 + i * 25, cachedContentTokenCount: i * 4100, totalTokenCount: 8260 + i * 925 }, modelVersion: 'gemini-2.5-pro',
      });
      contents.push({ role: 'model', parts: [{ text: reply }] });
    }
  });

  // Carol's script summarizes tickets with the Anthropic SDK; one asks for Opus, which her team may not use.
  await t.phase({ daysAgo: 1, hour: 16, paceS: 3 }, async () => {
    const sdk = { 'user-agent': 'Anthropic/Python 0.69.0', 'x-api-key': 'sk-ant-api03-screens-0123456789abcdef', 'anthropic-version': '2023-06-01' };
    for (const [i, ticket] of ['Login page times out after upgrade', 'Export drops rows with emoji', 'Dark mode contrast on charts', 'Invoice PDF missing VAT line'].entries()) {
      await anthropic('carol', sdk, {
        model: 'claude-haiku-4-5', max_tokens: 300, messages: [{ role: 'user', content: `Summarize ticket #${4210 + i} in one line: ${ticket}` }],
        id: `msg_01ticket${i}`, type: 'message', role: 'assistant', content: [{ type: 'text', text: `${ticket}: reproduced, owner assigned.` }], stop_reason: 'end_turn', stop_sequence: null,
        usage: { input_tokens: 820 + i * 37, output_tokens: 28 + i * 3 },
      });
    }
    await anthropic('carol', sdk, { model: 'claude-opus-4-1', max_tokens: 300, messages: [{ role: 'user', content: 'Summarize all open tickets' }] });
  });

  // Today: Bob on Codex (the Responses API), Alice's script on gpt-4o-mini with an address the policy redacts.
  await t.phase({ daysAgo: 0, hour: 10, paceS: 50 }, async () => {
    const codex = { 'user-agent': 'codex_cli_rs/0.46.0 (Ubuntu 24.4.0; x86_64) xterm-256color', originator: 'codex_cli_rs', authorization: 'Bearer sk-proj-screens-0123456789abcdef' };
    const input: Json[] = [];
    for (const [i, [ask, reply]] of ([
      ['Why is the nightly build slower since Tuesday?', 'The cache key now includes the lockfile hash, so every dependency bump misses the cache.'],
      ['Restore the old key but keep the lockfile check', 'Done: the key is back to the Node version; the lockfile is verified in a separate step.'],
    ] as const).entries()) {
      input.push({ type: 'message', role: 'user', content: [{ type: 'input_text', text: ask }] });
      await send('bob', 'https://api.openai.com/v1/responses', codex, {
        model: 'gpt-5-codex', instructions: 'You are Codex, a coding agent.', input, store: false,
        id: `resp_screens${i}`, object: 'response', status: 'completed',
        output: [{ type: 'message', id: `msg_screens${i}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: reply, annotations: [] }] }],
        usage: { input_tokens: 11800 + i * 2100, input_tokens_details: { cached_tokens: i * 11500 }, output_tokens: 420 + i * 150, output_tokens_details: { reasoning_tokens: 256 }, total_tokens: 12220 + i * 2250 },
      });
      input.push({ type: 'message', role: 'assistant', content: [{ type: 'output_text', text: reply }] });
    }
    const script = { 'user-agent': 'OpenAI/JS 5.23.0', authorization: 'Bearer sk-proj-screens-0123456789abcdef' };
    for (const [i, note] of ['Reply to jane.doe@example.com about the renewal', 'Draft the release notes for 2.4', 'Classify: "refund not received"'].entries()) {
      await send('alice', 'https://api.openai.com/v1/chat/completions', script, {
        model: 'gpt-4o-mini', messages: [{ role: 'user', content: note }], id: `chatcmpl-script${i}`, object: 'chat.completion', created: 1_700_000_000,
        choices: [{ index: 0, message: { role: 'assistant', content: 'Done.' }, finish_reason: 'stop' }],
        usage: { prompt_tokens: 240 + i * 30, completion_tokens: 90 + i * 20, total_tokens: 330 + i * 50 },
      });
    }
  });
  for (const a of agents.values()) await a.close();
}

const CLAUDE_TOOLS = [
  { name: 'Read', description: 'Reads a file from the local filesystem.', input_schema: { type: 'object', properties: { file_path: { type: 'string' } }, required: ['file_path'] } },
  { name: 'Edit', description: 'Performs exact string replacements in files.', input_schema: { type: 'object', properties: { file_path: { type: 'string' }, old_string: { type: 'string' }, new_string: { type: 'string' } } } },
  { name: 'Bash', description: 'Executes a bash command.', input_schema: { type: 'object', properties: { command: { type: 'string' } }, required: ['command'] } },
];

type Block = { type: 'text'; text: string } | { type: 'tool_use'; id: string; name: string; input: Json };
type Step = { answer: Block[]; result?: string; output: number };
const FLAKY_TEST: Step[] = [
  {
    answer: [{ type: 'text', text: 'The failure is a timing assertion. Let me read the test.' }, { type: 'tool_use', id: 'toolu_01Read', name: 'Read', input: { file_path: 'test/retry.test.ts' } }],
    result: "it('retries after the server says 503', async () => {\n  const started = Date.now();\n  await client.get('/flaky');\n  expect(Date.now() - started).toBeLessThan(1000);\n});",
    output: 96,
  },
  {
    answer: [{ type: 'text', text: 'The test measures wall time while the backoff is random (up to 1 s with jitter). Let me check the backoff settings.' }, { type: 'tool_use', id: 'toolu_01Grep', name: 'Bash', input: { command: 'grep -n "jitter" src/retry.ts' } }],
    result: '14:  const jitter = Math.random() * base;\n15:  return base * 2 ** attempt + jitter;',
    output: 118,
  },
  {
    answer: [{ type: 'text', text: 'I will make the test use a fixed clock instead of wall time.' }, { type: 'tool_use', id: 'toolu_01Edit', name: 'Edit', input: { file_path: 'test/retry.test.ts', old_string: 'const started = Date.now();', new_string: 'vi.useFakeTimers();' } }],
    result: 'The file test/retry.test.ts has been updated.',
    output: 212,
  },
  {
    answer: [{ type: 'tool_use', id: 'toolu_01Run', name: 'Bash', input: { command: 'npx vitest run test/retry.test.ts' } }],
    result: ' ✓ test/retry.test.ts (6 tests) 41ms\n\n Test Files  1 passed (1)\n      Tests  6 passed (6)',
    output: 64,
  },
  {
    answer: [{ type: 'text', text: 'Fixed. The test compared **wall time** against a backoff with random jitter:\n\n- it now runs on fake timers, so the wait is exact;\n- the six retry tests pass in 41 ms.\n\nThe flake came from `Math.random()` in `src/retry.ts:14`; the code itself is fine.' }],
    output: 143,
  },
];

const SINCE_OPTION: Step[] = [
  {
    answer: [{ type: 'text', text: 'Let me see how report parses it.' }, { type: 'tool_use', id: 'toolu_02Read', name: 'Read', input: { file_path: 'src/cli/report.ts' } }],
    result: "const since = parseSince(args.since ?? '30d');",
    output: 71,
  },
  {
    answer: [{ type: 'text', text: 'The usage command can share `parseSince`.' }, { type: 'tool_use', id: 'toolu_02Edit', name: 'Edit', input: { file_path: 'src/cli/usage.ts', old_string: 'const since = monthAgo();', new_string: "const since = parseSince(args.since ?? '30d');" } }],
    result: 'The file src/cli/usage.ts has been updated.',
    output: 188,
  },
  {
    answer: [{ type: 'text', text: 'Done: `usage --since 7d` now works as `report --since 7d` does, with the same default of 30 days.' }],
    output: 47,
  },
];

const RENAME: Step[] = [
  {
    answer: [{ type: 'tool_use', id: 'toolu_03Grep', name: 'Bash', input: { command: 'grep -rln fetchRows src test' } }],
    result: 'src/archive/list.ts\nsrc/cli/export.ts\ntest/archive/list.test.ts',
    output: 58,
  },
  {
    answer: [{ type: 'text', text: 'Three files use it.' }, { type: 'tool_use', id: 'toolu_03Sed', name: 'Bash', input: { command: "sed -i 's/fetchRows/readRows/g' src/archive/list.ts src/cli/export.ts test/archive/list.test.ts && npm test" } }],
    result: ' Test Files  212 passed (212)\n      Tests  1894 passed (1894)',
    output: 131,
  },
  {
    answer: [{ type: 'text', text: 'Renamed in 3 files; all 1,894 tests pass.' }],
    output: 22,
  },
];

/** A CI run's log, long enough to be folded in the session view. */
function ciLog(): string {
  const lines = ['```', '$ npm test', '', '> vitest run', ''];
  for (let i = 1; i <= 34; i++) lines.push(` ✓ test/${['api', 'cli', 'export', 'policy', 'archive', 'retry'][i % 6]}/${['list', 'show', 'filter', 'parse'][i % 4]}-${i}.test.ts (${3 + (i % 7)} tests) ${20 + i * 7}ms`);
  lines.push(' × test/retry.test.ts > retries after the server says 503', '   → expected 1184 to be less than 1000', '', ' Test Files  1 failed | 34 passed (35)', '```');
  return lines.join('\n');
}
