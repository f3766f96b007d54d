import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { exchangeFailed } from '../../src/failed-exchange.js';
import { eventually, exported } from '../helpers/archive.js';
import { COHERE_ERROR_PROMPT, COHERE_TEXT } from '../helpers/fake-cohere.js';
import { RESET_MID_STREAM } from '../helpers/fake-faults.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/** Cohere's Chat API v2 through llmtap with curl, as the cohere SDKs send it (POST https://api.cohere.com/v2/chat). */
const run = promisify(execFile);
let fake: FakeProvider;
let tp: TestProxy;
let caFile: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake, { connectTo: [parseConnectTo(`api.cohere.com:443:127.0.0.1:${fake.port}`)] });
  caFile = join(tp.home, 'client-ca.pem');
  writeFileSync(caFile, tp.caPem);
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

const chat = (body: object) => run('curl', ['-sS', '-N', '--fail-with-body', '--proxy', tp.url, '--cacert', caFile, '-A', 'cohere-curl-e2e',
  '-H', 'content-type: application/json', '-H', 'authorization: Bearer co-test-0123456789abcdefghij', 'https://api.cohere.com/v2/chat', '-d', JSON.stringify(body)]);

describe('Cohere Chat API v2 through the proxy', () => {
  it('records model, text, tool calls, billed tokens, cost and finish reason (a streamed ERROR as a failure); the request carrying the tool result is the next turn, as show renders it', async () => {
    const tools = [{ type: 'function', function: { name: 'get_weather', parameters: { type: 'object', properties: { city: { type: 'string' } } } } }];
    const plain = await chat({ model: 'command-a-03-2025', messages: [{ role: 'user', content: 'hi' }] });
    expect(JSON.parse(plain.stdout).message.content[0].text).toBe(COHERE_TEXT);
    const opening = [{ role: 'system', content: 'Be brief.' }, { role: 'user', content: [{ type: 'text', text: 'weather?' }] }];
    const streamed = await chat({ model: 'command-a-03-2025', stream: true, tools, messages: opening });
    expect(streamed.stdout).toContain('event: message-end');
    await chat({ model: 'command-r7b-12-2024', stream: true, messages: [{ role: 'user', content: COHERE_ERROR_PROMPT }] });
    // The tool's result sent back, as the SDK's users do: the same conversation, its second turn.
    await chat({ model: 'command-a-03-2025', tools, messages: [...opening,
      { role: 'assistant', tool_plan: 'I will look up the weather in Paris.', tool_calls: [{ id: 'get_weather_fake1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'get_weather_fake1', content: [{ type: 'document', document: { data: '{"temperature":"18C"}' } }] }] });

    const recs = await eventually(() => {
      const rows = exported(tp).filter((e) => e.client.user_agent === 'cohere-curl-e2e');
      if (rows.length < 4) throw new Error(`${rows.length}/4 recorded`);
      return rows;
    });
    expect(recs.map((r) => [r.provider, r.api, r.model, r.stream, r.response?.text, r.response?.stop_reason])).toEqual([
      ['cohere', 'cohere.chat', 'command-a-03-2025', false, COHERE_TEXT, 'COMPLETE'],
      ['cohere', 'cohere.chat', 'command-a-03-2025', true, COHERE_TEXT, 'TOOL_CALL'],
      ['cohere', 'cohere.chat', 'command-r7b-12-2024', true, COHERE_TEXT.slice(0, 6), 'ERROR'],
      ['cohere', 'cohere.chat', 'command-a-03-2025', false, COHERE_TEXT, 'TOOL_CALL'],
    ]);
    expect(recs[1]?.response?.tool_calls).toEqual([{ id: 'get_weather_fake1', name: 'get_weather', arguments: '{"city":"Paris"}' }]);
    expect(recs[1]?.response?.thinking).toBe('I will look up the weather in Paris.');
    // billed_units (12 in, 40 out), not tokens (208, 42): command-a at $2.50 / $10 per million.
    for (const rec of recs.slice(0, 2)) {
      expect([rec.usage.input_tokens, rec.usage.output_tokens]).toEqual([12, 40]);
      expect(rec.cost_usd).toBeCloseTo(12 * 2.5e-6 + 40 * 10e-6, 10);
    }
    // The relay finished all three; the third is Cohere's own error inside the 200, counted as failed.
    expect(recs.slice(0, 3).map((r) => [r.outcome, exchangeFailed({ outcome: r.outcome, status: r.response?.status, stopReason: r.response?.stop_reason })])).toEqual([
      ['completed', false], ['completed', false], ['completed', true],
    ]);
    // A messages array is a conversation: the tool result's request is turn 2 of the streamed one's session.
    expect([recs[3]?.session_id, recs[3]?.turn]).toEqual([recs[1]?.session_id, 2]);

    // show renders the turn from the request (a conversation like Chat Completions') and the reduced answer.
    const shown = (await run('node', [resolve('dist/cli/main.js'), '--home', tp.home, 'show', recs[1]!.session_id!])).stdout;
    expect(shown).toMatch(/turn 1 [^\n]*command-a-03-2025[^\n]*\$0\.0004/);
    expect(shown).toMatch(/user\n\s+weather\?\n/);
    expect(shown).toMatch(/\[tool call get_weather get_weather_fake1\]\n\s+\{"city":"Paris"\}/);
    expect(shown).toMatch(/turn 2 [^\n]*\n(.*\n)*.*\[tool result get_weather_fake1\]\n\s+\{"temperature":"18C"\}/);
  });

  it('a stream cut before message-end (where Cohere reports usage) is archived with estimated tokens, as a cut Chat Completions stream is', async () => {
    const cut = await run('curl', ['-sS', '-N', '--proxy', tp.url, '--cacert', caFile, '-A', 'cohere-cut-e2e', '-H', 'content-type: application/json',
      '-H', 'authorization: Bearer co-test-0123456789abcdefghij', 'https://api.cohere.com/v2/chat',
      '-d', JSON.stringify({ model: 'command-a-03-2025', stream: true, messages: [{ role: 'user', content: RESET_MID_STREAM }] })]).catch((err: { stdout: string }) => err);
    expect(cut.stdout).toContain('event: content-delta');
    expect(cut.stdout).not.toContain('message-end');
    const rec = await eventually(() => {
      const row = exported(tp).find((e) => e.client.user_agent === 'cohere-cut-e2e');
      if (!row?.usage_estimated) throw new Error('not estimated yet');
      return row;
    });
    expect([rec.outcome, rec.response?.text, rec.usage_estimated_part]).toEqual(['upstream_error', COHERE_TEXT, 'all']);
    expect(rec.usage.input_tokens).toBeGreaterThan(0);
    expect(rec.usage.output_tokens).toBeGreaterThan(0);
    expect(rec.cost_usd).toBeGreaterThan(0);
    expect((await run('node', [resolve('dist/cli/main.js'), '--home', tp.home, 'show', rec.session_id!])).stdout).toMatch(/out \d+ \(estimated\)/);
  });
});

describe('Cohere\'s legacy Chat API (v1) through the proxy', () => {
  const chatV1 = (body: object, agent = 'cohere-v1-e2e') => run('curl', ['-sS', '-N', '--proxy', tp.url, '--cacert', caFile, '-A', agent,
    '-H', 'content-type: application/json', '-H', 'authorization: Bearer co-test-0123456789abcdefghij', 'https://api.cohere.com/v1/chat', '-d', JSON.stringify(body)])
    .catch((err: { stdout: string }) => err);

  it('records model, text, tool calls, billed tokens, cost and finish reason of plain and NDJSON-streamed answers; the tool result sent back is the next turn', async () => {
    const tools = [{ name: 'get_weather', description: 'Weather', parameter_definitions: { city: { type: 'str', required: true } } }];
    const plain = await chatV1({ model: 'command-a-03-2025', message: 'hi', preamble: 'Be brief.' });
    expect(JSON.parse(plain.stdout).text).toBe(COHERE_TEXT);
    const streamed = await chatV1({ model: 'command-a-03-2025', stream: true, message: 'hi', chat_history: [{ role: 'USER', message: 'hello' }, { role: 'CHATBOT', message: 'hello!' }] });
    expect(streamed.stdout).toContain('"event_type":"stream-end"');
    await chatV1({ model: 'command-a-03-2025', stream: true, tools, message: 'weather?' });
    await chatV1({ model: 'command-r7b-12-2024', stream: true, message: COHERE_ERROR_PROMPT });
    // The tool's result sent back, as the v1 SDK's users do: the history with the calling turn, the results, no new message.
    await chatV1({ model: 'command-a-03-2025', tools, message: '', chat_history: [{ role: 'USER', message: 'weather?' },
      { role: 'CHATBOT', message: 'I will look up the weather in Paris.', tool_calls: [{ name: 'get_weather', parameters: { city: 'Paris' } }] }],
    tool_results: [{ call: { name: 'get_weather', parameters: { city: 'Paris' } }, outputs: [{ temperature: '18C' }] }] });

    const recs = await eventually(() => {
      const rows = exported(tp).filter((e) => e.client.user_agent === 'cohere-v1-e2e');
      if (rows.length < 5) throw new Error(`${rows.length}/5 recorded`);
      return rows;
    });
    expect(recs.map((r) => [r.provider, r.api, r.model, r.stream, r.response?.text, r.response?.stop_reason])).toEqual([
      ['cohere', 'cohere.chat.v1', 'command-a-03-2025', false, COHERE_TEXT, 'COMPLETE'],
      ['cohere', 'cohere.chat.v1', 'command-a-03-2025', true, COHERE_TEXT, 'COMPLETE'],
      ['cohere', 'cohere.chat.v1', 'command-a-03-2025', true, '', 'COMPLETE'],
      ['cohere', 'cohere.chat.v1', 'command-r7b-12-2024', true, COHERE_TEXT.slice(0, 6), 'ERROR'],
      ['cohere', 'cohere.chat.v1', 'command-a-03-2025', false, COHERE_TEXT, 'COMPLETE'],
    ]);
    expect(recs[2]?.response?.tool_calls).toEqual([{ id: null, name: 'get_weather', arguments: '{"city":"Paris"}' }]);
    expect(recs[2]?.response?.thinking).toBe('I will look up the weather in Paris.');
    // meta.billed_units (12 in, 40 out), not meta.tokens: command-a at $2.50 / $10 per million, as Chat v2.
    for (const rec of recs.slice(0, 3)) {
      expect([rec.usage.input_tokens, rec.usage.output_tokens]).toEqual([12, 40]);
      expect(rec.cost_usd).toBeCloseTo(12 * 2.5e-6 + 40 * 10e-6, 10);
    }
    expect(recs.slice(0, 4).map((r) => exchangeFailed({ outcome: r.outcome, status: r.response?.status, stopReason: r.response?.stop_reason }))).toEqual([false, false, false, true]);
    // The history and the tool results continue the tool-calling conversation: turn 2 of its session.
    expect([recs[4]?.session_id, recs[4]?.turn]).toEqual([recs[2]?.session_id, 2]);

    const shown = (await run('node', [resolve('dist/cli/main.js'), '--home', tp.home, 'show', recs[2]!.session_id!])).stdout;
    expect(shown).toMatch(/user\n\s+weather\?\n/);
    expect(shown).toMatch(/\[tool call get_weather\]\n\s+\{"city":"Paris"\}/);
    expect(shown).toMatch(/turn 2 [^\n]*\n(.*\n)*.*\[tool result\]\n\s+\[\{"temperature":"18C"\}\]/);
  });

  it('a stream cut before stream-end (where Cohere reports usage) is archived with estimated tokens', async () => {
    const cut = await chatV1({ model: 'command-a-03-2025', stream: true, message: RESET_MID_STREAM }, 'cohere-v1-cut-e2e');
    expect(cut.stdout).toContain('"event_type":"text-generation"');
    expect(cut.stdout).not.toContain('stream-end');
    const rec = await eventually(() => {
      const row = exported(tp).find((e) => e.client.user_agent === 'cohere-v1-cut-e2e');
      if (!row?.usage_estimated) throw new Error('not estimated yet');
      return row;
    });
    expect([rec.api, rec.outcome, rec.response?.text, rec.usage_estimated_part]).toEqual(['cohere.chat.v1', 'upstream_error', COHERE_TEXT, 'all']);
    expect(rec.usage.input_tokens).toBeGreaterThan(0);
    expect(rec.usage.output_tokens).toBeGreaterThan(0);
    expect(rec.cost_usd).toBeGreaterThan(0);
  });
});
