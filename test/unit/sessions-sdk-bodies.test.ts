import Anthropic from '@anthropic-ai/sdk';
import { GoogleGenAI, type Content } from '@google/genai';
import OpenAI from 'openai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { readConversation } from '../../src/sessions/conversation.js';
import { chainHashes } from '../../src/sessions/message-hash.js';

/**
 * The official SDKs build the request bodies (no sockets: their fetch is replaced by one
 * that keeps the body and answers with a documented JSON answer). Scripts then append
 * what the SDK handed back, as their docs show — the echoed message carries fields the
 * model wrote (`refusal: null`, `annotations`, item `id`s and `status`, `citations`) —
 * and the next request must still extend the previous one.
 */

type Answer = (body: Record<string, unknown>) => unknown;

function capture(answer: Answer): { bodies: Record<string, unknown>[]; fetch: typeof fetch } {
  const bodies: Record<string, unknown>[] = [];
  const fake = async (_url: unknown, init?: RequestInit): Promise<Response> => {
    const body = JSON.parse(String(init?.body)) as Record<string, unknown>;
    bodies.push(body);
    return new Response(JSON.stringify(answer(body)), { status: 200, headers: { 'content-type': 'application/json' } });
  };
  return { bodies, fetch: fake as typeof fetch };
}

function expectExtends(api: string, earlier: unknown, later: unknown): void {
  const a = chainHashes(readConversation(api, earlier)!.messages);
  const b = chainHashes(readConversation(api, later)!.messages);
  expect(a.length).toBeGreaterThan(0);
  expect(b.length).toBeGreaterThan(a.length);
  expect(b).toContain(a[a.length - 1]);
}

afterEach(() => vi.unstubAllGlobals());

describe('request bodies built by the official SDKs', () => {
  it('OpenAI Chat Completions: appending choices[0].message (with a tool call) keeps the chain', async () => {
    let n = 0;
    const { bodies, fetch } = capture(() => ({
      id: `chatcmpl-${++n}`, object: 'chat.completion', created: 1, model: 'gpt-4.1-mini',
      choices: [{ index: 0, finish_reason: n === 1 ? 'tool_calls' : 'stop', logprobs: null, message: n === 1
        ? { role: 'assistant', content: null, refusal: null, annotations: [], tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":"x"}' } }] }
        : { role: 'assistant', content: 'Done.', refusal: null, annotations: [] } }],
      usage: { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
    }));
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: 'http://fake.invalid/v1', fetch });
    const tools: OpenAI.ChatCompletionTool[] = [{ type: 'function', function: { name: 'lookup', parameters: { type: 'object' } } }];
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'system', content: 'terse' }, { role: 'user', content: 'look up x' }];
    const first = await client.chat.completions.create({ model: 'gpt-4.1-mini', messages, tools });
    messages.push(first.choices[0]!.message, { role: 'tool', tool_call_id: 'call_1', content: 'x is 1' });
    await client.chat.completions.create({ model: 'gpt-4.1-mini', messages, tools });
    expectExtends('chat.completions', bodies[0], bodies[1]);
    expect(readConversation('chat.completions', bodies[1])!.tools).toEqual(['lookup']);
  });

  it('OpenAI Responses: appending response.output items (ids, status, reasoning) keeps the chain', async () => {
    let n = 0;
    const { bodies, fetch } = capture(() => ({
      id: `resp_${++n}`, object: 'response', created_at: 1, status: 'completed', model: 'gpt-5',
      output: [
        { id: `rs_${n}`, type: 'reasoning', summary: [], encrypted_content: `enc-${n}` },
        { id: `msg_${n}`, type: 'message', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: `answer ${n}`, annotations: [] }] },
      ],
      usage: { input_tokens: 5, output_tokens: 2, total_tokens: 7 },
    }));
    const client = new OpenAI({ apiKey: 'sk-test', baseURL: 'http://fake.invalid/v1', fetch });
    const input: OpenAI.Responses.ResponseInputItem[] = [{ role: 'user', content: 'first question' }];
    const first = await client.responses.create({ model: 'gpt-5', instructions: 'be brief', input, store: false, include: ['reasoning.encrypted_content'] });
    input.push(...(first.output as OpenAI.Responses.ResponseInputItem[]), { role: 'user', content: 'second question' });
    await client.responses.create({ model: 'gpt-5', instructions: 'be brief', input, store: false });
    expectExtends('responses', bodies[0], bodies[1]);
    expect(readConversation('responses', bodies[1])!.system).toBe('be brief');
  });

  it('Anthropic Messages: appending response.content (tool_use) and a tool_result keeps the chain', async () => {
    let n = 0;
    const { bodies, fetch } = capture(() => ({
      id: `msg_${++n}`, type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', stop_reason: n === 1 ? 'tool_use' : 'end_turn', stop_sequence: null,
      content: n === 1
        ? [{ type: 'text', text: 'Checking.', citations: null }, { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { city: 'Oslo' } }]
        : [{ type: 'text', text: 'Cold.', citations: null }],
      usage: { input_tokens: 5, output_tokens: 2, cache_read_input_tokens: 0, cache_creation_input_tokens: 0 },
    }));
    const client = new Anthropic({ apiKey: 'sk-ant-test', baseURL: 'http://fake.invalid', fetch });
    const tools: Anthropic.Tool[] = [{ name: 'get_weather', input_schema: { type: 'object' } }];
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'Weather in Oslo?' }];
    const first = await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100, system: 'You are brief.', messages, tools });
    messages.push({ role: 'assistant', content: first.content }, { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: '-5 °C', cache_control: { type: 'ephemeral' } }] });
    await client.messages.create({ model: 'claude-sonnet-4-5', max_tokens: 100, system: 'You are brief.', messages, tools });
    expectExtends('messages', bodies[0], bodies[1]);
  });

  it('Google Gen AI: appending candidates[0].content (functionCall with thoughtSignature) keeps the chain', async () => {
    let n = 0;
    const { bodies, fetch } = capture(() => ({
      candidates: [{ index: 0, finishReason: 'STOP', content: { role: 'model', parts: n++ === 0
        ? [{ text: 'plan', thought: true }, { functionCall: { name: 'read_file', args: { path: 'a.txt' } }, thoughtSignature: 'CiQB0e2K' }]
        : [{ text: 'It says hi.' }] } }],
      usageMetadata: { promptTokenCount: 5, candidatesTokenCount: 2, totalTokenCount: 7 },
      modelVersion: 'gemini-2.5-flash',
    }));
    vi.stubGlobal('fetch', fetch);
    const ai = new GoogleGenAI({ apiKey: 'test-key' });
    const contents: Content[] = [{ role: 'user', parts: [{ text: 'read a.txt' }] }];
    const config = { systemInstruction: 'You are a CLI.', tools: [{ functionDeclarations: [{ name: 'read_file' }] }] };
    const first = await ai.models.generateContent({ model: 'gemini-2.5-flash', contents, config });
    contents.push(first.candidates![0]!.content!, { role: 'user', parts: [{ functionResponse: { name: 'read_file', response: { output: 'hi' } } }] });
    await ai.models.generateContent({ model: 'gemini-2.5-flash', contents, config });
    expectExtends('gemini.generateContent', bodies[0], bodies[1]);
    expect(readConversation('gemini.generateContent', bodies[1])).toMatchObject({ system: 'You are a CLI.', tools: ['read_file'] });
  });
});
