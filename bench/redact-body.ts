/**
 * Microbenchmark: the writer thread's per-record redaction cost for a typical 20 KB
 * chat request body (an agent turn: system prompt, a few messages, code, a tool
 * result) and its JSON answer, mapped to an archive row by exchangeToRow.
 *
 *   node --import tsx bench/redact-body.ts [iterations] [--with-key]
 */
import { makeExchange } from '../src/exchange.js';
import { exchangeToRow } from '../src/recorder/rows.js';

const prose = 'The quick brown fox jumps over the lazy dog while the build runs; task-runner and max_tokens stay. ';
const code = 'function add(a: number, b: number): number {\n  return a + b; // tokens, keys and secrets are words here\n}\n';
const messages: unknown[] = [{ role: 'system', content: prose.repeat(40) }];
for (let i = 0; i < 8; i++) {
  messages.push({ role: 'user', content: `${prose.repeat(8)}\n\`\`\`ts\n${code.repeat(4)}\`\`\`` });
  messages.push({ role: 'assistant', content: null, tool_calls: [{ id: `call_${i}`, type: 'function', function: { name: 'read_file', arguments: JSON.stringify({ path: `src/file-${i}.ts`, max_tokens: 200 }) } }] });
  messages.push({ role: 'tool', tool_call_id: `call_${i}`, content: code.repeat(3) });
}
const answer = Buffer.from(JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion', model: 'gpt-4o-mini', choices: [{ index: 0, message: { role: 'assistant', content: prose.repeat(10) }, finish_reason: 'stop' }], usage: { prompt_tokens: 5000, completion_tokens: 250 } }));

/** With a key pasted into the last message: the pattern scan runs over the whole body. */
const withKey = process.argv.includes('--with-key');
if (withKey) messages.push({ role: 'user', content: 'my key sk-proj-abcdefghijklmnopqrstuvwxyz0123 fails' });
const body = Buffer.from(JSON.stringify({ model: 'gpt-4o-mini', stream: false, temperature: 0.2, messages }));
const ex = makeExchange({
  provider: 'openai', api: 'chat.completions',
  request: { method: 'POST', path: '/v1/chat/completions', headers: ['Host', 'api.openai.com', 'Authorization', 'Bearer sk-proj-abcdefghijklmnopqrstuvwxyz0123', 'Content-Type', 'application/json', 'User-Agent', 'OpenAI/JS 6.49.0'], body: { bytes: body, size: body.length, truncated: false }, model: 'gpt-4o-mini', stream: false },
  response: { status: 200, headers: ['content-type', 'application/json'], body: { bytes: answer, size: answer.length, truncated: false }, reassembled: { model: 'gpt-4o-mini', text: prose.repeat(10), toolCalls: [], stopReason: 'stop', events: 0, usage: { inputTokens: 5000, outputTokens: 250 } } },
});

const iterations = Number(process.argv.find((a) => /^\d+$/.test(a)) ?? 20_000);
for (let i = 0; i < 2_000; i++) exchangeToRow(ex); // warm up
const samples: number[] = [];
for (let round = 0; round < 5; round++) {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations / 5; i++) exchangeToRow(ex);
  samples.push(Number(process.hrtime.bigint() - start) / 1000 / (iterations / 5));
}
samples.sort((a, b) => a - b);
console.log(`${withKey ? 'with a key' : 'no key'}: request body ${body.length} B, response body ${answer.length} B: exchangeToRow ${samples[2]!.toFixed(1)} µs/record (median of 5 rounds; min ${samples[0]!.toFixed(1)}, max ${samples[4]!.toFixed(1)})`);
