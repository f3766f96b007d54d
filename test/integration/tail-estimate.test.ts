import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import OpenAI from 'openai';
import { fetch as undiciFetch } from 'undici';
import { afterEach, describe, expect, it } from 'vitest';
import { HOLD_MS } from '../../src/cli/tail-hold.js';
import { paths } from '../../src/config.js';
import { openArchive, type Archive } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { typicalExchange } from '../helpers/exchanges.js';
import { OPENAI_TEXT, startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const { countTokens } = createRequire(import.meta.url)('gpt-tokenizer/encoding/o200k_base') as { countTokens: (s: string) => number };
const CLI = resolve('dist/cli/main.js');

let child: ChildProcessWithoutNullStreams | undefined;
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  child?.kill('SIGKILL');
  child = undefined;
  for (const c of cleanups.splice(0)) await c();
});

/** `llmtap tail` on `home`, its stdout gathered; resolves once it says it is watching. */
async function startTail(home: string, ...args: string[]): Promise<{ out: () => string; lines: (n: number, timeoutMs?: number) => Promise<string[]> }> {
  const c = spawn('node', [CLI, '--home', home, 'tail', '--interval', '50', ...args]);
  child = c;
  let out = '';
  c.stdout.on('data', (d: Buffer) => (out += d.toString()));
  await new Promise((r) => c.stderr.once('data', r));
  return {
    out: () => out,
    async lines(n, timeoutMs = 60_000) {
      const deadline = Date.now() + timeoutMs;
      while (out.split('\n').length - 1 < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      return out.trim().split('\n');
    },
  };
}

describe('tail and the estimated usage of an answer that reported none', () => {
  it('prints an OpenAI SDK stream (no include_usage, the default) with its estimated tokens and cost, in order with the next exchange', async () => {
    // A fresh proxy: the writer loads its tokenizer for this first estimate (~0.5-1 s after the
    // row is committed; 10-15 s on a busy machine, which tail's hold must cover: the line
    // is waited for past the hold, so a line printed without its estimate fails here).
    const fake: FakeProvider = await startFakeProvider();
    const tp: TestProxy = await startTestProxy(fake);
    cleanups.push(() => tp.close(), () => fake.close());
    const tail = await startTail(tp.home, '--json');
    const openai = new OpenAI({ apiKey: 'sk-proj-tail-estimate-0123456789abcdef', fetch: undiciFetch as unknown as typeof fetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
    const stream = await openai.chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'hi' }] });
    for await (const chunk of stream) void chunk;
    // Recorded right behind it: a plain answer that reports its usage.
    await openai.chat.completions.create({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'next' }] });
    const lines = (await tail.lines(2)).map((l) => JSON.parse(l) as { model: string; tokens: { input: number | null; output: number | null }; cost_usd: number | null; usage_estimated: boolean });
    expect(lines.map((l) => l.model)).toEqual(['gpt-4o', 'gpt-4o-mini']);
    // 3 + 3 per message + "user" + "hi" = 8, as OpenAI documents counting a prompt.
    expect(lines[0]).toMatchObject({ tokens: { input: 8, output: countTokens(OPENAI_TEXT) }, usage_estimated: true });
    expect(lines[0]!.cost_usd).toBeGreaterThan(0);
    expect(lines[1]).toMatchObject({ tokens: { input: 11, output: 17 }, usage_estimated: false });
  }, HOLD_MS + 45_000);

  it('holds a row awaiting its estimate until it is amended (printed with ~), and one never amended only a bounded time, order kept', async () => {
    const home = mkdtempSync(join(tmpdir(), 'llmtap-tail-hold-'));
    const archive: Archive = openArchive(paths(home).archive);
    cleanups.push(() => archive.close(), () => rmSync(home, { recursive: true, force: true }));
    const row = (i: number, awaiting: boolean, endedAt: number) => {
      const ex = typicalExchange(i);
      ex.timings = { start: endedAt - 300, end: endedAt };
      if (awaiting) delete ex.usage;
      const r = exchangeToRow(ex);
      if (awaiting) r.usage_estimated = 0;
      return r;
    };
    const tail = await startTail(home);
    // Ended long enough ago that one never amended is let go 5 s after it is committed.
    const endedAt = Date.now() - HOLD_MS + 5_000;
    const [amended, orphan, after] = [row(1, true, endedAt), row(2, true, endedAt), row(3, false, endedAt)];
    // As the writer commits them: awaiting its estimate (0), then amended. The second is never
    // amended (a proxy killed in between), and the third, with usage, waits behind it.
    archive.insertExchanges([amended, orphan, after]);
    const committed = Date.now();
    await new Promise((r) => setTimeout(r, 800));
    expect(tail.out()).toBe('');
    archive.db.prepare('UPDATE exchanges SET input_tokens = 12, output_tokens = 34, usage_estimated = 1 WHERE id = ?').run(amended.id);
    // Waited for past the orphan's hold: a first line printed unamended fails on its tokens.
    const first = await tail.lines(1, 20_000);
    expect(first[0]).toMatch(/ in ~12 out ~34 /);
    const lines = await tail.lines(3, 30_000);
    expect(Date.now() - committed).toBeGreaterThanOrEqual(4_500);
    expect(lines).toHaveLength(3);
    expect(lines[1]).toMatch(/ in - out - /);
    expect(lines[2]).toMatch(/ in 100 out 60 /);
  }, 60_000);
});
