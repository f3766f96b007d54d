import { describe, expect, it } from 'vitest';
import { readConversation } from '../../src/sessions/conversation.js';

describe('readConversation', () => {
  it('reads Chat Completions: leading system, part lists, tool calls, tool results, SDK nulls', () => {
    const c = readConversation('chat.completions', {
      model: 'gpt-4.1',
      messages: [
        { role: 'developer', content: 'Be brief.' },
        { role: 'user', content: [{ type: 'text', text: 'What is this?' }, { type: 'image_url', image_url: { url: 'data:image/png;base64,AAAA' } }] },
        { role: 'assistant', content: null, refusal: null, annotations: [], tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"q":1}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'a cat' },
        { role: 'system', content: 'late note' },
      ],
      tools: [{ type: 'function', function: { name: 'lookup', parameters: {} } }],
    });
    expect(c).toEqual({
      system: 'Be brief.',
      tools: ['lookup'],
      messages: [
        { role: 'user', blocks: [{ type: 'text', text: 'What is this?' }, { type: 'other', kind: 'image_url' }] },
        { role: 'assistant', blocks: [{ type: 'tool_call', id: 'call_1', name: 'lookup', arguments: '{"q":1}' }] },
        { role: 'tool', blocks: [{ type: 'tool_result', id: 'call_1', text: 'a cat' }] },
        { role: 'system', blocks: [{ type: 'text', text: 'late note' }] },
      ],
    });
  });

  it('reads Ollama chat: object arguments, thinking, images, tool_name', () => {
    const c = readConversation('ollama.chat', {
      model: 'qwen3',
      messages: [
        { role: 'user', content: 'look', images: ['iVBOR'] },
        { role: 'assistant', content: '', thinking: 'hmm', tool_calls: [{ function: { name: 'see', arguments: { x: 1 } } }] },
        { role: 'tool', tool_name: 'see', content: 'seen' },
      ],
    });
    expect(c?.messages).toEqual([
      { role: 'user', blocks: [{ type: 'text', text: 'look' }, { type: 'other', kind: 'image' }] },
      { role: 'assistant', blocks: [{ type: 'thinking', text: 'hmm' }, { type: 'tool_call', name: 'see', arguments: '{"x":1}' }] },
      { role: 'tool', blocks: [{ type: 'tool_result', id: 'see', text: 'seen' }] },
    ]);
  });

  it('reads Anthropic Messages (also Bedrock invoke Claude-shaped) without cache markers or signatures', () => {
    const body = {
      anthropic_version: 'bedrock-2023-05-31',
      system: [{ type: 'text', text: 'sys A' }, { type: 'text', text: 'sys B', cache_control: { type: 'ephemeral' } }],
      tools: [{ name: 'Bash', input_schema: {} }, { type: 'web_search_20250305', name: 'web_search' }],
      messages: [
        { role: 'user', content: 'hi' },
        { role: 'assistant', content: [{ type: 'thinking', thinking: 'plan', signature: 'EqQB' }, { type: 'redacted_thinking', data: 'xx' }, { type: 'tool_use', id: 'toolu_1', name: 'Bash', input: { command: 'ls' } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', is_error: true, content: [{ type: 'text', text: 'denied' }], cache_control: { type: 'ephemeral' } }, { type: 'image', source: {} }] },
      ],
    };
    const expected = {
      system: 'sys A\nsys B',
      tools: ['Bash', 'web_search'],
      messages: [
        { role: 'user', blocks: [{ type: 'text', text: 'hi' }] },
        { role: 'assistant', blocks: [{ type: 'thinking', text: 'plan' }, { type: 'thinking', text: '' }, { type: 'tool_call', id: 'toolu_1', name: 'Bash', arguments: '{"command":"ls"}' }] },
        { role: 'user', blocks: [{ type: 'tool_result', id: 'toolu_1', text: 'denied', isError: true }, { type: 'other', kind: 'image' }] },
      ],
    };
    expect(readConversation('messages', body)).toEqual(expected);
    expect(readConversation('bedrock.invoke', body)).toEqual(expected);
  });

  it('reads Responses: instructions, string input, items folded by side, ids and encrypted reasoning dropped', () => {
    expect(readConversation('responses', { instructions: 'sys', input: 'hello' })).toEqual({ system: 'sys', tools: [], messages: [{ role: 'user', blocks: [{ type: 'text', text: 'hello' }] }] });
    const c = readConversation('responses', {
      tools: [{ type: 'function', name: 'shell' }, { type: 'web_search' }],
      input: [
        { role: 'user', content: 'list' },
        { type: 'reasoning', id: 'rs_1', summary: [{ type: 'summary_text', text: 'think' }], encrypted_content: 'gAAA' },
        { type: 'message', id: 'msg_1', role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: 'ok', annotations: [] }] },
        { type: 'function_call', id: 'fc_1', call_id: 'call_1', name: 'shell', arguments: '{"command":["ls"]}' },
        { type: 'function_call_output', call_id: 'call_1', output: 'a b' },
      ],
    });
    expect(c).toEqual({
      tools: ['shell', 'web_search'],
      messages: [
        { role: 'user', blocks: [{ type: 'text', text: 'list' }] },
        { role: 'assistant', blocks: [{ type: 'thinking', text: 'think' }, { type: 'text', text: 'ok' }, { type: 'tool_call', id: 'call_1', name: 'shell', arguments: '{"command":["ls"]}' }] },
        { role: 'tool', blocks: [{ type: 'tool_result', id: 'call_1', text: 'a b' }] },
      ],
    });
  });

  it('reads Gemini contents, plain and inside the Code Assist wrapper', () => {
    const request = {
      systemInstruction: { parts: [{ text: 'be Gemini' }] },
      tools: [{ functionDeclarations: [{ name: 'read_file' }] }, { googleSearch: {} }],
      contents: [
        { role: 'user', parts: [{ text: 'read it' }] },
        { role: 'model', parts: [{ text: 'hmm', thought: true }, { functionCall: { id: 'fc1', name: 'read_file', args: { path: 'a' } }, thoughtSignature: 'sig' }] },
        { role: 'user', parts: [{ functionResponse: { id: 'fc1', name: 'read_file', response: { output: 'A' } } }, { inlineData: { mimeType: 'image/png', data: 'AA' } }] },
      ],
    };
    const expected = {
      system: 'be Gemini',
      tools: ['read_file', 'googleSearch'],
      messages: [
        { role: 'user', blocks: [{ type: 'text', text: 'read it' }] },
        { role: 'assistant', blocks: [{ type: 'thinking', text: 'hmm' }, { type: 'tool_call', id: 'fc1', name: 'read_file', arguments: '{"path":"a"}' }] },
        { role: 'user', blocks: [{ type: 'tool_result', id: 'fc1', text: '{"output":"A"}' }, { type: 'other', kind: 'inlineData' }] },
      ],
    };
    expect(readConversation('gemini.generateContent', request)).toEqual(expected);
    expect(readConversation('gemini.generateContent', { model: 'gemini-2.5-pro', project: 'p', request })).toEqual(expected);
  });

  it('reads Bedrock Converse (and Nova on invoke) without cachePoint blocks', () => {
    const body = {
      system: [{ text: 'sys' }, { cachePoint: { type: 'default' } }],
      toolConfig: { tools: [{ toolSpec: { name: 'get_weather' } }, { cachePoint: { type: 'default' } }] },
      messages: [
        { role: 'user', content: [{ text: 'weather?' }, { cachePoint: { type: 'default' } }] },
        { role: 'assistant', content: [{ reasoningContent: { reasoningText: { text: 'r', signature: 's' } } }, { toolUse: { toolUseId: 't1', name: 'get_weather', input: { city: 'Oslo' } } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: 't1', status: 'error', content: [{ json: { error: 'down' } }] } }] },
      ],
    };
    const expected = {
      system: 'sys',
      tools: ['get_weather'],
      messages: [
        { role: 'user', blocks: [{ type: 'text', text: 'weather?' }] },
        { role: 'assistant', blocks: [{ type: 'thinking', text: 'r' }, { type: 'tool_call', id: 't1', name: 'get_weather', arguments: '{"city":"Oslo"}' }] },
        { role: 'user', blocks: [{ type: 'tool_result', id: 't1', text: '{"error":"down"}', isError: true }] },
      ],
    };
    expect(readConversation('bedrock.converse', body)).toEqual(expected);
    expect(readConversation('bedrock.invoke', { schemaVersion: 'messages-v1', ...body })).toEqual(expected);
    expect(readConversation('bedrock.invoke', { prompt: '<s>[INST] hi [/INST]' })?.messages).toEqual([{ role: 'user', blocks: [{ type: 'text', text: '<s>[INST] hi [/INST]' }] }]);
  });

  it('reads a text Completions request as one user message: the prompt, then the suffix the answer goes before', () => {
    expect(readConversation('completions', { prompt: 'def add(a, b):', suffix: '\n\nprint(add(1, 2))', max_tokens: 50, extra: { language: 'python' } })).toEqual({
      tools: [],
      messages: [{ role: 'user', blocks: [{ type: 'text', text: 'def add(a, b):' }, { type: 'text', text: '\n\nprint(add(1, 2))', label: 'suffix' }] }],
    });
    expect(readConversation('completions', { model: 'gpt-3.5-turbo-instruct', prompt: ['one', 'two'], suffix: '' })).toEqual({
      tools: [], messages: [{ role: 'user', blocks: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] }],
    });
    // Token ids are not text: nothing to show.
    expect(readConversation('completions', { prompt: [1, 2, 3] })).toBeUndefined();
  });

  it('gives undefined for APIs without a conversation and for bodies of the wrong shape', () => {
    expect(readConversation('embeddings', { input: 'x' })).toBeUndefined();
    expect(readConversation('messages', { messages: 'nope' })).toBeUndefined();
    expect(readConversation('chat.completions', 'text')).toBeUndefined();
    expect(readConversation(undefined, { messages: [] })).toBeUndefined();
  });
});
