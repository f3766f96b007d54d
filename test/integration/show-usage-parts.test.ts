/**
 * `llmtap show` of an exchange says which of its tokens were images, video or audio, and
 * the searches and seconds of audio it was billed for, beside the token counts (text and
 * --json), read from the row's columns and its `usage_parts`.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { paths } from '../../src/config.js';
import { makeExchange, type ApiKind, type ProviderId, type Usage } from '../../src/exchange.js';
import { openArchive } from '../../src/recorder/db.js';
import { priceOf } from '../../src/recorder/row-cost.js';
import { groupingSummary } from '../../src/recorder/row-grouping.js';
import { exchangeToRow } from '../../src/recorder/rows.js';

const CLI = resolve('dist/cli/main.js');
let home: string;
const ids: Record<string, string> = {};

function record(provider: ProviderId, api: ApiKind, model: string, host: string, usage: Usage): { row: ReturnType<typeof exchangeToRow>; ex: ReturnType<typeof makeExchange> } {
  const ex = makeExchange({ provider, api, target: { host, port: 443, tls: true }, request: { model, path: '/v1/x' }, timings: { start: Date.now() - 1000, end: Date.now() } });
  ex.response = { status: 200, headers: [], body: { bytes: Buffer.alloc(0), size: 0, truncated: false }, reassembled: { text: 'done', toolCalls: [], events: 0 } };
  ex.usage = usage;
  ex.outcome = 'completed';
  // A session id of its own, so the exchange id names the exchange (a session without one is named after its first).
  ex.agent = { sessionId: `session-${model}` };
  const row = exchangeToRow(ex);
  row.cost_usd = priceOf(ex, undefined)?.usd ?? null;
  return { row, ex };
}

beforeAll(() => {
  home = mkdtempSync(join(tmpdir(), 'llmtap-show-parts-'));
  const archive = openArchive(paths(home).archive);
  const items = {
    image: record('openai', 'images', 'gpt-image-1', 'api.openai.com', { inputTokens: 373, inputImageTokens: 323, outputTokens: 1290, outputImageTokens: 1290 }),
    search: record('anthropic', 'messages', 'claude-sonnet-4-5', 'api.anthropic.com', { inputTokens: 100, outputTokens: 50, cacheCreationInputTokens: 20_000, cacheCreation1hTokens: 15_000, webSearches: 3 }),
    whisper: record('openai', 'audio.transcriptions', 'whisper-1', 'api.openai.com', { inputAudioSeconds: 42 }),
    audio: record('openai', 'chat.completions', 'gpt-audio', 'api.openai.com', { inputTokens: 100, outputTokens: 50, inputAudioTokens: 80, outputAudioTokens: 40 }),
    plain: record('openai', 'chat.completions', 'gpt-4o-mini', 'api.openai.com', { inputTokens: 100, outputTokens: 60 }),
  };
  for (const [name, { row, ex }] of Object.entries(items)) {
    archive.insertExchanges([row], [groupingSummary(row, ex)]);
    ids[name] = row.id;
  }
  archive.close();
});
afterAll(() => rmSync(home, { recursive: true, force: true }));

const show = async (...args: string[]) => (await promisify(execFile)(process.execPath, [CLI, '--home', home, 'show', ...args])).stdout;

describe('show: the parts of the token counts', () => {
  it('text: image tokens in and out, searches, 1-hour cache writes, seconds and tokens of audio; nothing more for a text answer', async () => {
    expect(await show(ids.image!)).toContain('in 373 (cached 0, 323 image) out 1.3k (1.3k image)');
    const search = await show(ids.search!);
    expect(search).toContain('(cached 0, 15k written to the 1h cache)');
    expect(search).toContain(' · 3 web searches · ');
    expect(await show(ids.whisper!)).toContain(' · 42 s of audio · ');
    expect(await show(ids.audio!)).toContain('in 100 (cached 0, 80 audio) out 50 (40 audio)');
    const plain = await show(ids.plain!);
    expect(plain).toMatch(/in 100 \(cached 0\) out 60 · /);
  });

  it('--json: in the exported usage and on the turn', async () => {
    const image = JSON.parse(await show(ids.image!, '--json')) as { usage: Record<string, number | null>; turn: { usageParts?: Usage } };
    expect(image.usage).toMatchObject({ input_tokens: 373, output_tokens: 1290, input_image_tokens: 323, output_image_tokens: 1290, web_searches: null });
    expect(image.turn.usageParts).toEqual({ inputImageTokens: 323, outputImageTokens: 1290 });
    const whisper = JSON.parse(await show(ids.whisper!, '--json')) as { usage: Record<string, number | null>; turn: { usageParts?: Usage } };
    expect(whisper.usage).toMatchObject({ input_audio_seconds: 42 });
    expect(whisper.turn.usageParts).toEqual({ inputAudioSeconds: 42 });
    const plain = JSON.parse(await show(ids.plain!, '--json')) as { turn: { usageParts?: Usage } };
    expect(plain.turn.usageParts).toBeUndefined();
  });
});
