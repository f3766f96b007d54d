import { execFile, spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import Anthropic from '@anthropic-ai/sdk';
import { parse } from 'csv-parse/sync';
import OpenAI from 'openai';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { usdFigure } from '../../src/archive/stats-json.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { assertValidHar } from '../helpers/har-validator.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const run = promisify(execFile);
const CLI = resolve('dist/cli/main.js');

/** Claude Sonnet 4.5's published API prices, USD per million tokens. */
const SONNET = { input: 3, output: 15, cacheRead: 0.3 };
/** The fake provider's Anthropic usage per answer. */
const FAKE_USAGE = { input: 21, output: 9, cacheRead: 4 };
/** One answer's price, to 12 significant digits (its parts sum to 0.00019920000000000002). */
const PER_TURN_USD = 0.0001992;

let fake: FakeProvider;
let tp: TestProxy;
/** Request bodies exactly as the SDKs sent them, in order. */
const sent: string[] = [];

const captureFetch = ((url: string, init: { body?: unknown }) => {
  if (typeof init?.body === 'string') sent.push(init.body);
  return undiciFetch(url, init as never);
}) as unknown as typeof fetch;

function llmtap(...args: string[]) {
  return run('node', [CLI, '--home', tp.home, ...args], { maxBuffer: 16 * 1024 * 1024 });
}

const weatherTool = { name: 'get_weather', description: 'Weather for a city', input_schema: { type: 'object' as const, properties: { city: { type: 'string' } }, required: ['city'] } };

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake);
  const anthropic = new Anthropic({ apiKey: 'sk-ant-api03-readside-0123456789abcdef', fetch: captureFetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });

  // An agent loop with a tool: the model asks for the weather, gets it, answers.
  const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'What is the weather in Paris? <script>alert(1)</script>' }];
  const first = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 256, tools: [weatherTool], messages });
  const call = first.content.find((b) => b.type === 'tool_use')!;
  messages.push({ role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: call.id, content: '18°C and sunny' }] });
  const second = await anthropic.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 256, tools: [weatherTool], messages, stream: false });
  expect(second.stop_reason).toBe('end_turn');

  // A separate conversation from another SDK, two turns, no ids on the wire.
  const openai = new OpenAI({ apiKey: 'sk-proj-readside-0123456789abcdef', fetch: captureFetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
  const chat: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'Say hi' }];
  const a = await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: chat });
  chat.push(a.choices[0]!.message, { role: 'user', content: 'Again, in French' });
  await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: chat });
  tp.proxy.recorder.flush();
}, 60_000);

afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

interface SessionJson { id: string; tool: string; turns: number; threads: number; models: string[]; cost_usd: number | null; tokens: { input: number; output: number; cached_input: number } }

describe('the read side on an archive recorded through the proxy by the real SDKs', () => {
  it('sessions: one session per conversation, with its turns, tokens and cost', async () => {
    const sessions = JSON.parse((await llmtap('sessions', '--json')).stdout) as SessionJson[];
    expect(sessions).toHaveLength(2);
    const claude = sessions.find((s) => s.tool === 'anthropic-sdk-node')!;
    expect(claude).toMatchObject({ turns: 2, threads: 1, models: ['claude-sonnet-4-5'] });
    // Every prompt token, cache reads included (Anthropic reports them apart from input_tokens).
    expect(claude.tokens).toEqual({ input: 2 * (FAKE_USAGE.input + FAKE_USAGE.cacheRead), output: 2 * FAKE_USAGE.output, cached_input: 2 * FAKE_USAGE.cacheRead });
    const perTurn = (FAKE_USAGE.input * SONNET.input + FAKE_USAGE.output * SONNET.output + FAKE_USAGE.cacheRead * SONNET.cacheRead) / 1e6;
    expect(claude.cost_usd).toBeCloseTo(2 * perTurn, 10);
    const openai = sessions.find((s) => s.tool === 'openai-sdk-node')!;
    expect(openai).toMatchObject({ turns: 2, threads: 1 });
    expect(openai.cost_usd).toBeGreaterThan(0);

    const table = (await llmtap('sessions')).stdout;
    expect(table).toMatch(/^SESSION\s+STARTED\s+DURATION\s+TOOL/);
    expect(table).toContain('anthropic-sdk-node');
    expect(table).not.toContain('\x1b['); // no colour into a pipe
    expect(JSON.parse((await llmtap('sessions', '--json', '--tool', 'openai-sdk-node')).stdout)).toHaveLength(1);
  });

  it('show: the conversation turn by turn, the tool call and its result, captured text as text', async () => {
    const sessions = JSON.parse((await llmtap('sessions', '--json', '--tool', 'anthropic-sdk-node')).stdout) as SessionJson[];
    const id = sessions[0]!.id;
    const text = (await llmtap('show', id.slice(0, 12))).stdout;
    expect(text).toContain(`session ${id}`);
    expect(text).toMatch(/turn 1 .*claude-sonnet-4-5/);
    expect(text).toContain('What is the weather in Paris? <script>alert(1)</script>');
    expect(text).toMatch(/\[tool call get_weather toolu_fake1\]\n\s+\{"city":"Paris"\}/);
    expect(text).toMatch(/turn 2 [^\n]*\n(.*\n)*.*\[tool result toolu_fake1\]\n\s+18°C and sunny/);
    expect(text).toContain('Bonjour from fake Claude');

    const md = (await llmtap('show', id, '--format', 'md')).stdout;
    expect(md).toMatch(/^# Session /);
    expect(md).toContain('**assistant** [tool call get_weather toolu_fake1]');

    const json = JSON.parse((await llmtap('show', id, '--json')).stdout) as { threads: { thread: { costUsd: number }; turns: { exchangeId: string; costUsd: number; added: unknown[]; answer: { toolCalls: unknown[] } }[] }[] };
    expect(json.threads[0]!.turns).toHaveLength(2);
    expect(json.threads[0]!.turns[0]!.answer.toolCalls).toEqual([{ id: 'toolu_fake1', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
    // Dollar figures as sessions --json gives them: 0.0001992 a turn, not the sum of its parts' 0.00019920000000000002.
    expect(json.threads[0]!.turns.map((t) => t.costUsd)).toEqual([PER_TURN_USD, PER_TURN_USD]);
    expect(json.threads[0]!.thread.costUsd).toBe(usdFigure(2 * PER_TURN_USD));
    // The second turn's exchange (the first's id is the session's).
    const one = JSON.parse((await llmtap('show', json.threads[0]!.turns[1]!.exchangeId, '--json')).stdout) as { cost_usd: number; turn: { costUsd: number } };
    expect([one.cost_usd, one.turn.costUsd]).toEqual([PER_TURN_USD, PER_TURN_USD]);
  });

  it('show --raw gives back the exact request body the SDK sent', async () => {
    const exchanges = (await llmtap('export')).stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; path: string; request: { body: string } });
    const second = exchanges.filter((e) => e.path === '/v1/messages')[1]!;
    const raw = (await llmtap('show', second.id, '--raw')).stdout;
    const body = raw.slice(raw.indexOf('\r\n\r\n') + 4, raw.indexOf('\r\n\r\nHTTP/1.1 '));
    expect(body).toBe(sent[1]);
    expect(raw).toMatch(/^POST \/v1\/messages HTTP\/1\.1\r\nhost: api\.anthropic\.com\r\n/i);
    expect(raw).toMatch(/\r\n(x-api-key|authorization): \[REDACTED\]\r\n/i);
    expect(raw).not.toContain('readside-0123456789');
  });

  it('export --session: one session as HAR (validated) and as JSON lines, with session and cost fields', async () => {
    const [claude] = JSON.parse((await llmtap('sessions', '--json', '--tool', 'anthropic-sdk-node')).stdout) as SessionJson[];
    const har = JSON.parse((await llmtap('export', '--format', 'har', '--session', claude!.id)).stdout) as { log: { entries: { request: { url: string }; _llmtap: { session_id: string; turn: number; cost_usd: number } }[] } };
    assertValidHar(har);
    expect(har.log.entries.map((e) => [e.request.url, e._llmtap.session_id, e._llmtap.turn])).toEqual([
      ['https://api.anthropic.com/v1/messages', claude!.id, 1], ['https://api.anthropic.com/v1/messages', claude!.id, 2]]);
    const lines = (await llmtap('export', '--session', claude!.id)).stdout.trim().split('\n').map((l) => JSON.parse(l) as { cost_usd: number; cost_source: string; thread_id: string });
    expect(lines).toHaveLength(2);
    expect(lines.reduce((a, l) => a + l.cost_usd, 0)).toBeCloseTo(claude!.cost_usd!, 12);
    expect(lines.map((l) => l.cost_source)).toEqual(['api', 'api']);
    // A unique prefix names the session, as for `show`; an id naming none is an error, not an empty export.
    const byPrefix = (await llmtap('export', '--session', claude!.id.slice(0, 30))).stdout.trim().split('\n');
    expect(byPrefix.map((l) => (JSON.parse(l) as { id: string }).id)).toEqual(lines.map((l) => (l as unknown as { id: string }).id));
    const unknown = await llmtap('export', '--session', 'no-such-session').then(() => undefined, (err: { code: number; stderr: string; stdout: string }) => err);
    expect(unknown?.code).toBe(1);
    expect(unknown?.stderr).toBe('llmtap: no session "no-such-session"\n');
    expect(unknown?.stdout).toBe('');
  });

  it('export --format csv: a row per exchange agreeing with the JSON export, narrowed by the same filters', async () => {
    const rows = parse((await llmtap('export', '--format', 'csv')).stdout, { columns: true }) as Record<string, string>[];
    const json = (await llmtap('export')).stdout.trim().split('\n').map((l) => JSON.parse(l) as { id: string; model: string; status: number; usage: { output_tokens: number }; cost_usd: number; session_id: string });
    expect(rows.map((r) => r.id)).toEqual(json.map((j) => j.id));
    for (const [i, r] of rows.entries()) {
      const j = json[i]!;
      expect([r.model, Number(r.status), Number(r.output_tokens), r.session_id]).toEqual([j.model, j.status, j.usage.output_tokens, j.session_id]);
      expect(Number(r.cost_usd)).toBeCloseTo(j.cost_usd, 12);
    }
    // Claude's prompt tokens counted as stats counts them: the uncached 21 and the 4 read from the cache.
    expect(rows.filter((r) => r.api === 'messages').map((r) => r.prompt_tokens)).toEqual(['25', '25']);
    const openaiOnly = parse((await llmtap('export', '--format', 'csv', '--model', 'gpt-4o-mini')).stdout, { columns: true }) as Record<string, string>[];
    expect(openaiOnly.map((r) => r.model)).toEqual(['gpt-4o-mini', 'gpt-4o-mini']);
    const tunnels = await llmtap('export', '--format', 'csv', '--tunnels').then(() => '', (e: { stderr: string; code: number }) => `${e.code} ${e.stderr}`);
    expect(tunnels).toBe('2 llmtap: --tunnels has no CSV form (tunnels carry no requests); use --format jsonl\n');
  });

  it('a reader that goes away early ends a command quietly (llmtap sessions | head): exit 0, no EPIPE trace', async () => {
    for (const command of ['sessions', 'stats', 'export']) {
      const child = spawn(process.execPath, [CLI, '--home', tp.home, command], { stdio: ['ignore', 'pipe', 'pipe'] });
      child.stdout.destroy(); // closed before the command writes its first line
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
      expect([command, code, stderr]).toEqual([command, 0, '']);
    }
  });

  it('purge --dry-run counts everything recorded so far and deletes nothing', async () => {
    const before = JSON.parse((await llmtap('stats', '--json')).stdout) as { requests: number }[];
    const recorded = before.reduce((n, r) => n + r.requests, 0);
    const preview = JSON.parse((await llmtap('purge', '--before', '0m', '--dry-run', '--json')).stdout) as { dry_run: boolean; exchanges: number };
    expect(preview).toEqual({ before: expect.any(String), dry_run: true, exchanges: recorded, ws_messages: 0, tunnels: expect.any(Number), sessions: expect.any(Number), cache_entries: 0 });
    expect(recorded).toBeGreaterThan(0);
    expect((await llmtap('purge', '--before', '0m', '--dry-run')).stdout).toMatch(new RegExp(`^would purge before .*: ${recorded} exchanges, .*nothing was deleted\\)\\n$`));
    expect(JSON.parse((await llmtap('stats', '--json')).stdout)).toEqual(before);
  });

  it('stats: requests, tokens, cost and latency per model; --json for machines', async () => {
    const rows = JSON.parse((await llmtap('stats', '--by', 'model', '--json')).stdout) as { model: string; requests: number; cost_usd: number; latency_ms: { p50: number } }[];
    expect(rows.map((r) => [r.model, r.requests])).toEqual(expect.arrayContaining([['claude-sonnet-4-5', 2], ['gpt-4o-mini', 2]]));
    for (const r of rows) expect(r.latency_ms.p50).toBeGreaterThan(0);
    const table = (await llmtap('stats', '--by', 'tool')).stdout;
    expect(table).toMatch(/^TOOL\s+REQS\s+ERRS/);
    expect(table).toMatch(/\ntotal\s+4\s+0/);
  });

  it('stats and export narrowed by tool, model and status; stats --csv for a spreadsheet; a bad filter is one line', async () => {
    const tools = JSON.parse((await llmtap('stats', '--by', 'tool', '--json')).stdout) as { tool: string; requests: number }[];
    const openaiTool = tools.find((t) => t.tool.startsWith('openai'))!.tool;
    const byModel = JSON.parse((await llmtap('stats', '--by', 'model', '--tool', openaiTool, '--json')).stdout) as { model: string; requests: number }[];
    expect(byModel.map((r) => [r.model, r.requests])).toEqual([['gpt-4o-mini', 2]]);
    expect(JSON.parse((await llmtap('stats', '--model', 'claude-sonnet-4-5', '--status', '2xx', '--json')).stdout)).toMatchObject([{ model: 'claude-sonnet-4-5', requests: 2 }]);
    expect((await llmtap('stats', '--status', 'error')).stdout).toBe('no exchanges match --status\n');

    const csv = (await llmtap('stats', '--by', 'model', '--csv')).stdout.trimEnd().split('\n');
    expect(csv[0]).toBe('model,requests,errors,tokens_input,tokens_output,tokens_cached_input,cost_usd,unpriced_exchanges,estimated_exchanges,latency_ms_p50,latency_ms_p95,ttft_ms_p50,ttft_ms_p95,cache_hit_ratio');
    const claude = csv.find((l) => l.startsWith('claude-sonnet-4-5,'))!.split(',');
    const json = (JSON.parse((await llmtap('stats', '--by', 'model', '--json')).stdout) as { model: string; cost_usd: number; tokens: { input: number } }[]).find((r) => r.model === 'claude-sonnet-4-5')!;
    expect([claude[1], Number(claude[3]), Number(claude[6])]).toEqual(['2', json.tokens.input, json.cost_usd]);
    // Dollar figures without binary noise (0.0029879999999999998): at most 12 significant digits.
    for (const line of csv.slice(1)) expect(line.split(',')[6]!.replace(/^0\.0*/, '').length).toBeLessThanOrEqual(12);
    expect((await llmtap('stats', '--status', 'error', '--csv')).stdout).toBe(`${csv[0]}\n`);

    const exported = (await llmtap('export', '--model', 'gpt-4o-mini')).stdout.trim().split('\n').map((l) => JSON.parse(l) as { model: string });
    expect(exported.map((e) => e.model)).toEqual(['gpt-4o-mini', 'gpt-4o-mini']);

    const fails = async (...args: string[]): Promise<string> => (await llmtap(...args).then(() => ({ stderr: 'exit 0' }), (e: { stderr: string }) => e)).stderr;
    expect(await fails('stats', '--status', 'teapot')).toBe('llmtap: --status "teapot": expected a status such as 429, a class such as 4xx, or error\n');
    // No exchange can have a status outside 100-599: one that names it is a typo, not an empty result.
    expect(await fails('export', '--status', '600')).toBe('llmtap: --status "600": expected a status such as 429, a class such as 4xx, or error\n');
    expect(await fails('stats', '--team', 'platform')).toBe('llmtap: --team needs --policy FILE: its teams: say which proxy users are in which team\n');
    expect(await fails('stats', '--json', '--csv')).toBe('llmtap: --json and --csv cannot be combined\n');
    // Every id here starts with the same time-ordered prefix: a short one names several, and says what to do.
    expect(await fails('show', '0')).toMatch(/^llmtap: "0" matches several: (session|exchange) [0-9a-f-]{36}(, (session|exchange) [0-9a-f-]{36}){1,4}(, …)? \(type more of the id\)\n$/);
    expect(await fails('stats', '--budgets', 'p.yaml', '--tool', 'codex')).toBe('llmtap: --budgets reports the current period of each rule: it takes no --by, --csv, --tool\n');
    expect(await fails('export', '--tunnels', '--model', 'x')).toBe('llmtap: --tunnels takes only --since, --until and --limit (tunnels carry no --model)\n');
    const teams = join(tp.home, 'teams.yaml');
    writeFileSync(teams, 'teams: {platform: [alice]}\nrules: []\n');
    expect(await fails('stats', '--team', 'ops', '--policy', teams)).toBe(`llmtap: --team ops: no such team in ${teams} (teams: platform)\n`);
    // The archive's exchanges came without a proxy user: nobody in the team sent any.
    expect(JSON.parse((await llmtap('stats', '--team', 'platform', '--policy', teams, '--json')).stdout)).toEqual([]);
  });

  it('tail: one line per exchange as it is recorded', async () => {
    const child = spawn('node', [CLI, '--home', tp.home, 'tail', '--json', '--interval', '50'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    // tail starts at the end (nothing old is printed) and says so once it is watching.
    await new Promise((r) => child.stderr.once('data', r));
    const openai = new OpenAI({ apiKey: 'sk-proj-tail-0123456789abcdef', fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'tail me' }] });
    tp.proxy.recorder.flush();
    const deadline = Date.now() + 5000;
    while (!out.includes('\n') && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { model: string; status: number; path: string });
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatchObject({ model: 'gpt-4o-mini', status: 200, path: '/v1/chat/completions' });
  });

  it('tail --since --model: the matching exchanges since then, then the new ones that match; --until and --all with --since refused', async () => {
    const child = spawn('node', [CLI, '--home', tp.home, 'tail', '--json', '--since', '1h', '--model', 'gpt-4o-mini', '--interval', '50'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const said = await new Promise<string>((r) => child.stderr.once('data', (d: Buffer) => r(d.toString())));
    expect(said).toMatch(/^llmtap: following .+ from \d{4}-\d\d-\d\dT.+Z; Ctrl-C stops\n$/);
    const openai = new OpenAI({ apiKey: 'sk-proj-tail-0123456789abcdef', fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    await openai.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'not for this tail' }] });
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'for this tail' }] });
    tp.proxy.recorder.flush();
    const matching = (await llmtap('export', '--model', 'gpt-4o-mini')).stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
    const deadline = Date.now() + 5000;
    while (out.trim().split('\n').filter(Boolean).length < matching.length && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await new Promise((r) => setTimeout(r, 200)); // nothing else arrives
    child.kill('SIGINT');
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { id: string; model: string });
    expect(lines.map((l) => l.id)).toEqual(matching);
    const refused = async (...args: string[]) => llmtap(...args).then(() => 'exit 0', (e: { code: number; stderr: string }) => `${e.code} ${e.stderr.trim()}`);
    expect(await refused('tail', '--until', '1h')).toBe('2 llmtap: tail follows what is recorded from now on: --until has no place here (export --until reads a closed range)');
    expect(await refused('tail', '--all', '--since', '1h')).toBe('2 llmtap: --all and --since both say where to start; give one');
  });

  it('tail -n: the last N matching exchanges, then the new ones that match; -n with --all refused', async () => {
    const matching = (await llmtap('export', '--model', 'gpt-4o-mini')).stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id);
    expect(matching.length).toBeGreaterThan(2);
    const child = spawn('node', [CLI, '--home', tp.home, 'tail', '--json', '-n', '2', '--model', 'gpt-4o-mini', '--interval', '50'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const said = await new Promise<string>((r) => child.stderr.once('data', (d: Buffer) => r(d.toString())));
    expect(said).toMatch(/^llmtap: following .+ from its last 2 matching exchanges; Ctrl-C stops\n$/);
    const openai = new OpenAI({ apiKey: 'sk-proj-tail-0123456789abcdef', fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'after the last two' }] });
    tp.proxy.recorder.flush();
    const newest = (await llmtap('export', '--model', 'gpt-4o-mini')).stdout.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id).at(-1)!;
    const deadline = Date.now() + 5000;
    while (out.trim().split('\n').filter(Boolean).length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill('SIGINT');
    expect(out.trim().split('\n').map((l) => (JSON.parse(l) as { id: string }).id)).toEqual([...matching.slice(-2), newest]);
    const refused = async (...args: string[]) => llmtap(...args).then(() => 'exit 0', (e: { code: number; stderr: string }) => `${e.code} ${e.stderr.trim()}`);
    expect(await refused('tail', '-n', '2', '--all')).toBe('2 llmtap: --lines and --all both say where to start; give one');
    expect(await refused('tail', '--lines', '-1')).toBe('2 llmtap: --lines must be a whole number of exchanges, 0 or more');
  });

  it('replay: the session plays back turn by turn in its recorded order, with the recorded gaps scaled by --speed', async () => {
    const sessions = JSON.parse((await llmtap('sessions', '--json', '--tool', 'anthropic-sdk-node')).stdout) as SessionJson[];
    const id = sessions[0]!.id;
    const text = (await llmtap('replay', id.slice(0, 12), '--no-wait')).stdout;
    expect(text).toContain(`replaying session ${id}: 2 turns in 1 thread`);
    expect(text.indexOf('turn 1')).toBeLessThan(text.indexOf('turn 2'));
    expect(text).toContain('[tool call get_weather toolu_fake1]');
    const lines = (await llmtap('replay', id, '--json', '--speed', '1000')).stdout.trim().split('\n').map((l) => JSON.parse(l) as { step: number; gapMs: number; waitedMs: number; turn: { turn: number; exchangeId: string } });
    expect(lines.map((l) => l.turn.turn)).toEqual([1, 2]);
    expect(lines.map((l) => (l.turn as { costUsd?: number }).costUsd)).toEqual([PER_TURN_USD, PER_TURN_USD]);
    expect(lines[0]!.gapMs).toBe(0);
    expect(lines[1]!.waitedMs).toBe(Math.round(lines[1]!.gapMs / 1000));
    const wrong = await llmtap('replay', lines[1]!.turn.exchangeId).catch((e: { stderr: string; code: number }) => e);
    expect(wrong).toMatchObject({ code: 1 });
    expect((wrong as { stderr: string }).stderr).toMatch(/is an exchange, not a session/);
    const badSpeed = await llmtap('replay', id, '--speed', '0').catch((e: { stderr: string; code: number }) => e);
    expect(badSpeed).toMatchObject({ code: 2, stderr: 'llmtap: --speed must be a positive number (got 0)\n' });
  });

  it('bad input gets one line naming the flag', async () => {
    const err = await llmtap('sessions', '--since', 'yesterdayish').catch((e: { stderr: string; code: number }) => e);
    expect(err).toMatchObject({ code: 2 });
    expect((err as { stderr: string }).stderr).toBe('llmtap: --since "yesterdayish": expected a duration such as 24h or 7d, or a date such as 2026-12-01\n');
    const missing = await llmtap('show', 'no-such-id').catch((e: { stderr: string; code: number }) => e);
    expect(missing).toMatchObject({ code: 1, stderr: 'llmtap: no session or exchange "no-such-id"\n' });
  });
});
