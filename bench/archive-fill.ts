/**
 * Fills an archive the way months of a platform team's agent traffic would: long
 * Claude Code-like sessions (system prompt, tool definitions, a conversation that grows
 * every turn, SSE answers) written through the recorder's own writer (record codec,
 * redaction, compact body storage, session grouping), spread over --days days ending now.
 *
 *   node --import tsx bench/archive-fill.ts --out DIR/llmtap.db [--sessions 1000] [--turns 100] [--days 90]
 */
import { randomBytes } from 'node:crypto';
import { makeExchange, type Exchange } from '../src/exchange.js';
import { idGenerator } from '../src/ids.js';
import { openArchive } from '../src/recorder/db.js';
import { encodeRecord } from '../src/recorder/record-codec.js';
import { ArchiveWriter } from '../src/recorder/writer.js';

const args = process.argv.slice(2);
const opt = (name: string, dflt: number): number => Number(args[args.indexOf(`--${name}`) + 1] ?? dflt) || dflt;
const out = args[args.indexOf('--out') + 1]!;
const sessions = opt('sessions', 1000);
const turns = opt('turns', 100);
const days = opt('days', 90);

const system = `You are Claude Code, an interactive CLI tool. ${'Follow the repository conventions carefully. '.repeat(150)}`;
const tools = Array.from({ length: 12 }, (_, i) => ({
  name: `tool_${i}`, description: `Tool number ${i}. ${'It reads and writes files in the workspace. '.repeat(20)}`,
  input_schema: { type: 'object', properties: { path: { type: 'string' }, content: { type: 'string' } }, required: ['path'] },
}));
const end = Date.now();
const start = end - days * 86_400_000;
let clock = 0;
const ids = idGenerator(() => clock);
const writer = new ArchiveWriter(() => openArchive(out), (level, fields, msg) => { if (level !== 'info') process.stderr.write(`${level} ${msg} ${JSON.stringify(fields)}\n`); });

function sse(text: string, input: number, output: number): Buffer {
  const events = [
    `event: message_start\ndata: ${JSON.stringify({ type: 'message_start', message: { id: 'msg_1', model: 'claude-sonnet-4-5', usage: { input_tokens: input, cache_read_input_tokens: input - 50, output_tokens: 1 } } })}\n\n`,
    `event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n`,
    ...text.match(/.{1,40}/gs)!.map((t) => `event: content_block_delta\ndata: ${JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: t } })}\n\n`),
    `event: message_delta\ndata: ${JSON.stringify({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: output } })}\n\n`,
    'event: message_stop\ndata: {"type":"message_stop"}\n\n',
  ];
  return Buffer.from(events.join(''));
}

const t0 = performance.now();
const perSession = (end - start) / sessions;
let batch: Buffer[] = [];
let written = 0;
for (let s = 0; s < sessions; s++) {
  const sessionId = `${randomBytes(4).toString('hex')}-aaaa-4bbb-8ccc-${randomBytes(6).toString('hex')}`;
  const messages: unknown[] = [];
  let at = start + s * perSession;
  for (let t = 0; t < turns; t++) {
    messages.push({ role: 'user', content: [{ type: 'text', text: `turn ${t}: please look at src/file_${t}.ts ${randomBytes(200).toString('base64')}` }] });
    const body = Buffer.from(JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 8192, stream: true, system: [{ type: 'text', text: system }], tools, messages, metadata: { user_id: `user_abc_account__session_${sessionId}` } }));
    const answer = `Here is what I found in file ${t}: ${randomBytes(300).toString('base64')}`;
    clock = at;
    const ex: Exchange = makeExchange({
      id: ids(), provider: 'anthropic', api: 'messages',
      client: { address: '10.0.0.' + (s % 40), userAgent: 'claude-cli/2.0.14 (external, cli)', user: `dev${s % 40}` },
      target: { host: 'api.anthropic.com', port: 443, tls: true },
      request: { method: 'POST', path: '/v1/messages', model: 'claude-sonnet-4-5', stream: true,
        headers: ['content-type', 'application/json', 'x-api-key', 'sk-ant-api03-' + 'x'.repeat(80), 'user-agent', 'claude-cli/2.0.14 (external, cli)', 'x-claude-code-session-id', sessionId],
        body: { bytes: body, size: body.length, truncated: false } },
      response: { status: 200, headers: ['content-type', 'text/event-stream'], body: (() => { const b = sse(answer, 2000 + t * 500, 300); return { bytes: b, size: b.length, truncated: false }; })(),
        reassembled: { model: 'claude-sonnet-4-5', text: answer, toolCalls: [], usage: { inputTokens: 50, cachedInputTokens: 2000 + t * 500, outputTokens: 300 }, stopReason: 'end_turn', events: 12 } },
      usage: { inputTokens: 50, cachedInputTokens: 2000 + t * 500, outputTokens: 300 },
      timings: { start: at, requestEnd: at + 5, upstreamHeaders: at + 400, firstByte: at + 450, end: at + 3000 },
      outcome: 'completed', tool: { name: 'claude-code', version: '2.0.14' }, agent: { sessionId },
    });
    messages.push({ role: 'assistant', content: [{ type: 'text', text: answer }] });
    batch.push(encodeRecord({ kind: 'exchange', exchange: ex }));
    at += Math.min(perSession / turns, 60_000);
    if (batch.length >= 200) {
      const o = writer.write(batch);
      if (o.lost) throw new Error(`lost ${o.lost}: ${o.error?.message}`);
      written += o.recorded;
      batch = [];
    }
  }
  if (s % 50 === 49) process.stderr.write(`\r${written} exchanges, ${((performance.now() - t0) / 1000).toFixed(0)} s`);
}
if (batch.length) written += writer.write(batch).recorded;
writer.close();
process.stderr.write(`\nwrote ${written} exchanges in ${((performance.now() - t0) / 1000).toFixed(1)} s\n`);
