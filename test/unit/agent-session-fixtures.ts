import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Generated agent sessions shaped like the wire: every turn resends the whole
 * conversation. Deterministic (mulberry32) so sizes and failures reproduce.
 */

function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Code-ish vocabulary with non-ASCII and characters JSON must escape, so texts are
// neither trivially compressible nor plain ASCII.
const WORDS = ('const let function return await async import export from interface type string number ' +
  'buffer offset length parts skeleton archive writer thread request response stream token usage model ' +
  'café naïve → ✓ 日本語 emoji 🚀 "quoted" back\\slash tab\tnew\nline if else for while { } ( ) [ ] ; : = => ' +
  'src/recorder/db.ts test/unit/x.test.ts README.md npm vitest sqlite better-sqlite3 zlib deflate brotli').split(' ');

function text(random: () => number, bytes: number): string {
  const words: string[] = [];
  let size = 0;
  while (size < bytes) {
    const word = WORDS[Math.floor(random() * WORDS.length)] ?? 'x';
    words.push(random() < 0.08 ? `${word}${Math.floor(random() * 1e6)}` : word);
    size += word.length + 1;
  }
  return words.join(' ');
}

/** Tool results are file reads: slices of this repository's own sources, real code text. */
let corpus: string | undefined;
function fileText(random: () => number, bytes: number): string {
  if (corpus === undefined) {
    const root = join(import.meta.dirname, '../../src');
    corpus = readdirSync(root, { recursive: true, encoding: 'utf8' })
      .filter((file) => file.endsWith('.ts')).sort()
      .map((file) => readFileSync(join(root, file), 'utf8')).join('\n');
  }
  const start = Math.floor(random() * (corpus.length - bytes));
  return corpus.slice(start, start + bytes);
}

function base64(random: () => number, bytes: number): string {
  const raw = Buffer.alloc(bytes);
  for (let i = 0; i < bytes; i++) raw[i] = Math.floor(random() * 256);
  return raw.toString('base64');
}

function schema(random: () => number): object {
  const properties: Record<string, object> = {};
  for (let i = 0; i < 4; i++) properties[`arg_${i}`] = { type: 'string', description: text(random, 150) };
  return { type: 'object', properties, required: ['arg_0'], additionalProperties: false, $schema: 'http://json-schema.org/draft-07/schema#' };
}

const EPHEMERAL = { type: 'ephemeral' };

/** Claude Code's Anthropic Messages requests, one per turn; the cache marker sits on the last message only. */
export function claudeCodeSession(turns: number, seed = 7): Buffer[] {
  const random = prng(seed);
  const system = [
    { type: 'text', text: "You are Claude Code, Anthropic's official CLI for Claude.", cache_control: EPHEMERAL },
    { type: 'text', text: text(random, 10_000), cache_control: EPHEMERAL },
  ];
  const tools = Array.from({ length: 20 }, (_, i) => ({
    name: `Tool${i}`, description: text(random, 400), input_schema: schema(random),
  }));
  type Block = Record<string, unknown>;
  const messages: { role: string; content: Block[] }[] = [
    { role: 'user', content: [{ type: 'text', text: `<system-reminder>${text(random, 600)}</system-reminder>` }, { type: 'text', text: text(random, 200) }] },
  ];
  const requests: Buffer[] = [];
  const userId = `user_${'ab'.repeat(32)}_account__session_0199a3e2-7c1d-7000-8000-000000000001`;
  for (let turn = 0; turn < turns; turn++) {
    // The marker moves: copy the messages and put cache_control on the last block of the last one.
    const wire = messages.map((message, index) => index < messages.length - 1 ? message : {
      ...message,
      content: message.content.map((block, b) => b === message.content.length - 1 ? { ...block, cache_control: EPHEMERAL } : block),
    });
    requests.push(Buffer.from(JSON.stringify({
      model: 'claude-sonnet-4-5-20250929', messages: wire, system, tools,
      metadata: { user_id: userId }, max_tokens: 32000, stream: true,
    })));
    const id = `toolu_01${base64(random, 12).replace(/[+/=]/g, 'x')}`;
    messages.push({ role: 'assistant', content: [
      { type: 'text', text: text(random, 250) },
      { type: 'tool_use', id, name: `Tool${turn % 20}`, input: { arg_0: `src/file-${turn}.ts`, arg_1: text(random, 60) } },
    ] });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: id, content: fileText(random, 1000) }] });
  }
  return requests;
}

/** Codex's Responses requests (`input` items, encrypted reasoning, function calls and outputs). */
export function codexSession(turns: number, seed = 11): Buffer[] {
  const random = prng(seed);
  const instructions = text(random, 8_000);
  const tools = Array.from({ length: 8 }, (_, i) => ({
    type: 'function', name: `tool_${i}`, description: text(random, 300), strict: false, parameters: schema(random),
  }));
  const input: object[] = [
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: `<environment_context>${text(random, 400)}</environment_context>` }] },
    { type: 'message', role: 'user', content: [{ type: 'input_text', text: text(random, 150) }] },
  ];
  const requests: Buffer[] = [];
  for (let turn = 0; turn < turns; turn++) {
    requests.push(Buffer.from(JSON.stringify({
      model: 'gpt-5-codex', instructions, input, tools, tool_choice: 'auto', parallel_tool_calls: false,
      reasoning: { effort: 'medium', summary: 'auto' }, store: false, stream: true,
      include: ['reasoning.encrypted_content'], prompt_cache_key: '0199a3e2-7c1d-7000-8000-000000000002',
    })));
    const callId = `call_${base64(random, 12).replace(/[+/=]/g, 'x')}`;
    input.push({ type: 'reasoning', summary: [{ type: 'summary_text', text: text(random, 120) }], encrypted_content: `gAAAAA${base64(random, 300)}` });
    input.push({ type: 'function_call', name: 'shell', arguments: JSON.stringify({ command: ['bash', '-lc', text(random, 80)] }), call_id: callId });
    input.push({ type: 'function_call_output', call_id: callId, output: fileText(random, 900) });
  }
  return requests;
}

/** A short Anthropic SSE answer, different each turn. */
export function sseResponse(turn: number): Buffer {
  const events = [
    ['message_start', { type: 'message_start', message: { id: `msg_${turn}`, type: 'message', role: 'assistant', model: 'claude-sonnet-4-5-20250929', content: [], usage: { input_tokens: 10 + turn, output_tokens: 1 } } }],
    ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
    ['content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: `Reading file ${turn} now.` } }],
    ['content_block_stop', { type: 'content_block_stop', index: 0 }],
    ['message_delta', { type: 'message_delta', delta: { stop_reason: 'tool_use' }, usage: { output_tokens: 40 + turn } }],
    ['message_stop', { type: 'message_stop' }],
  ] as const;
  return Buffer.from(events.map(([name, data]) => `event: ${name}\ndata: ${JSON.stringify(data)}\n\n`).join(''));
}
