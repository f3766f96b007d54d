import { describe, expect, it } from 'vitest';
import { priceExchange } from '../../src/cost/price-exchange.js';
import { unpricedReason, type UnpricedRow } from '../../src/cost/unpriced-reason.js';
import { BUILT_IN_DETECTORS } from '../../src/policy/detectors.js';
import { Placeholders, redactRequest } from '../../src/policy/redact-body.js';
import { multipartFields } from '../../src/providers/multipart-fields.js';
import { identifyRequest, parserFor } from '../../src/providers/registry.js';
import { readConversation } from '../../src/sessions/conversation.js';
import { imageUploadRequest } from '../../src/sessions/conversation-media.js';

/**
 * OpenAI's Image API: generations (JSON), edits and variations (multipart), answers as JSON
 * or `image_generation.*` / `image_edit.*` SSE; GPT image models report token usage.
 */
const parser = () => parserFor('images')!;
const png = 'iVBORw0KGgo=';
const usage = { input_tokens: 373, input_tokens_details: { text_tokens: 50, image_tokens: 323 }, output_tokens: 4160, output_tokens_details: { image_tokens: 4160, text_tokens: 0 }, total_tokens: 4533 };

function reduce(answer: string, contentType = 'application/json') {
  const reducer = parser().createReducer(contentType);
  const bytes = Buffer.from(answer);
  for (let i = 0; i < bytes.length; i += 11) reducer.push(bytes.subarray(i, i + 11));
  return reducer.finish();
}

/** A multipart body as undici's FormData serialises it (what the openai SDK sends). */
async function form(fields: Record<string, string>, file?: { name: string; bytes: Buffer; type: string }): Promise<{ body: Buffer; contentType: string }> {
  const data = new FormData();
  if (file) data.append('image', new Blob([file.bytes], { type: file.type }), file.name);
  for (const [name, value] of Object.entries(fields)) data.append(name, value);
  const request = new Request('http://x/', { method: 'POST', body: data });
  return { body: Buffer.from(await request.arrayBuffer()), contentType: request.headers.get('content-type')! };
}

describe('images', () => {
  it('is identified for generations, edits and variations', () => {
    for (const path of ['/v1/images/generations', '/v1/images/edits', '/v1/images/variations']) expect(identifyRequest('api.openai.com', 443, path)).toEqual({ provider: 'openai', api: 'images' });
    expect(identifyRequest('my-res.openai.azure.com', 443, '/openai/deployments/img/images/generations?api-version=2025-04-01-preview')).toEqual({ provider: 'azure-openai', api: 'images' });
  });

  it('reads model and stream from a JSON body, and from a multipart upload\'s fields only', async () => {
    expect(parser().parseRequest(Buffer.from(JSON.stringify({ model: 'gpt-image-1', prompt: 'a cat', n: 2 })), 'application/json')).toEqual({ model: 'gpt-image-1', stream: false });
    expect(parser().parseRequest(Buffer.from(JSON.stringify({ model: 'gpt-image-1', prompt: 'a cat', stream: true })))).toEqual({ model: 'gpt-image-1', stream: true });
    // The file comes first, holding bytes that look like a field: never read.
    const trap = Buffer.from('\r\n--x\r\nContent-Disposition: form-data; name="model"\r\n\r\nfake\r\n\u0000\u00ff');
    const edit = await form({ model: 'gpt-image-1', prompt: 'add a hat — bitte', stream: 'true' }, { name: 'cat.png', bytes: trap, type: 'image/png' });
    expect(parser().parseRequest(edit.body, edit.contentType)).toEqual({ model: 'gpt-image-1', stream: true });
    expect(multipartFields(edit.body, edit.contentType, ['model', 'prompt', 'image'])).toEqual({ model: 'gpt-image-1', prompt: 'add a hat — bitte' });
    const variation = await form({ model: 'dall-e-2', n: '2' }, { name: 'cat.png', bytes: Buffer.from([1, 2, 3]), type: 'image/png' });
    expect(parser().parseRequest(variation.body, variation.contentType)).toEqual({ model: 'dall-e-2', stream: false });
    // A quoted boundary, by hand; and no boundary at all.
    const hand = Buffer.from('--b "1"\r\nContent-Disposition: form-data; name=model\r\n\r\ngpt-image-1-mini\r\n--b "1"--\r\n');
    expect(multipartFields(hand, 'multipart/form-data; boundary="b \\"1\\""', ['model'])).toEqual({});
    expect(multipartFields(Buffer.from('--b1\r\nContent-Disposition: form-data; name=model\r\n\r\ngpt-image-1-mini\r\n--b1--\r\n'), 'multipart/form-data; boundary="b1"', ['model'])).toEqual({ model: 'gpt-image-1-mini' });
    expect(multipartFields(hand, 'multipart/form-data', ['model'])).toEqual({});
  });

  it('reads the image count, size and usage (text and image tokens) of a JSON answer; DALL·E\'s revised prompt, no usage', () => {
    const gpt = reduce(JSON.stringify({ created: 1, background: 'opaque', data: [{ b64_json: png }, { b64_json: png }], output_format: 'png', quality: 'high', size: '1024x1024', usage }));
    expect(gpt).toMatchObject({ text: '2 images, 1024x1024', toolCalls: [], usage: { inputTokens: 373, outputTokens: 4160, inputImageTokens: 323, outputImageTokens: 4160 } });
    const dalle = reduce(JSON.stringify({ created: 1, data: [{ url: 'https://x/img.png', revised_prompt: 'A tabby cat, watercolour' }] }));
    expect(dalle).toMatchObject({ text: '1 image\nrevised prompt: A tabby cat, watercolour' });
    expect(dalle.usage).toBeUndefined();
    expect(reduce('{"error":{"message":"bad"}}').text).toBe('');
  });

  it('reads a streamed answer: partial images counted, the completed image\'s usage', () => {
    const event = (type: string, extra: object) => `event: ${type}\ndata: ${JSON.stringify({ type, b64_json: png, size: '1536x1024', ...extra })}\n\n`;
    const sse = event('image_generation.partial_image', { partial_image_index: 0 }) + event('image_generation.partial_image', { partial_image_index: 1 })
      + event('image_generation.completed', { usage: { input_tokens: 50, input_tokens_details: { text_tokens: 50, image_tokens: 0 }, output_tokens: 6240, total_tokens: 6290 } });
    expect(reduce(sse, 'text/event-stream')).toMatchObject({ text: '1 image, 1536x1024 (2 partial)', events: 3, usage: { inputTokens: 50, outputTokens: 6240 } });
    const edit = reduce(event('image_edit.completed', { usage }), 'text/event-stream');
    expect(edit).toMatchObject({ text: '1 image, 1536x1024', usage: { inputImageTokens: 323 } });
  });

  it('prices GPT image tokens at the price list\'s text and image rates; DALL·E is unpriced, saying why', () => {
    const at = Date.parse('2026-06-01');
    const price = (model: string, u: object) => priceExchange({ provider: 'openai', host: 'api.openai.com', api: 'images', model, usage: u, at, subscription: false });
    // gpt-image-1: text input $5/M, image input $10/M, output $40/M.
    expect(price('gpt-image-1', { inputTokens: 50, outputTokens: 4160 }).usd).toBeCloseTo((50 * 5 + 4160 * 40) / 1e6, 9);
    expect(price('gpt-image-1', { inputTokens: 373, inputImageTokens: 323, outputTokens: 4160, outputImageTokens: 4160 }).usd).toBeCloseTo((50 * 5 + 323 * 10 + 4160 * 40) / 1e6, 9);
    // gpt-image-1.5 prices output image tokens apart from output text: $32/M.
    expect(price('gpt-image-1.5', { inputTokens: 50, outputTokens: 4160, outputImageTokens: 4160 }).usd).toBeCloseTo((50 * 5 + 4160 * 32) / 1e6, 9);
    const row: UnpricedRow = {
      cost_usd: null, cost_source: null, status: 200, provider: 'openai', host: 'api.openai.com', port: 443, tls: 1, path: '/v1/images/generations', api: 'images',
      model: 'dall-e-3', policy: null, started_at: at, input_tokens: null, output_tokens: null, cached_input_tokens: null, reasoning_tokens: null,
      cache_creation_input_tokens: null, input_audio_tokens: null, cached_audio_input_tokens: null, output_audio_tokens: null,
    };
    expect(unpricedReason(row, (input) => priceExchange(input))).toBe('dall-e-3 bills per image (by size and quality) and its answer counts no tokens, which llmtap does not price: the price list has no per-image rates');
    expect(unpricedReason({ ...row, status: 400 }, (input) => priceExchange(input))).toBeUndefined();
  });

  it('redaction reads a JSON body\'s prompt only; show reads the prompt and what was asked for', () => {
    const body = { model: 'gpt-image-1', prompt: 'a poster for a@x.io', n: 2, size: '1024x1024', quality: 'high', user: 'b@x.io' };
    const hits = redactRequest('images', body, Object.values(BUILT_IN_DETECTORS), new Placeholders(), true);
    expect(hits.map((h) => h.at)).toEqual(['prompt']);
    expect(body).toMatchObject({ prompt: 'a poster for [REDACTED:email:1]', user: 'b@x.io' });
    expect(readConversation('images', { model: 'dall-e-3', prompt: 'a cat', size: '1792x1024', quality: 'hd' }))
      .toEqual({ tools: [], messages: [{ role: 'user', blocks: [{ type: 'text', text: 'a cat' }, { type: 'other', kind: '1 image, 1792x1024, hd' }] }] });
  });

  it('show reads an edit\'s stored upload: its prompt, n, size and quality fields', async () => {
    const edit = await form({ model: 'gpt-image-1', prompt: 'add a hat', n: '2', quality: 'low' }, { name: 'cat.png', bytes: Buffer.from([137, 80, 78, 71]), type: 'image/png' });
    const headers = JSON.stringify([['Content-Type', edit.contentType], ['content-length', String(edit.body.length)]]);
    expect(readConversation('images', imageUploadRequest(edit.body, headers)))
      .toEqual({ tools: [], messages: [{ role: 'user', blocks: [{ type: 'text', text: 'add a hat' }, { type: 'other', kind: '2 images, low' }] }] });
    expect(imageUploadRequest(edit.body, '[["content-type","application/json"]]')).toBeUndefined();
    expect(imageUploadRequest(edit.body, 'not json')).toBeUndefined();
  });

  it('show reads a JSON body the same way', () => {
    expect(readConversation('images', { model: 'dall-e-3', prompt: 'a cat', size: '1792x1024', quality: 'hd' }))
      .toEqual({ tools: [], messages: [{ role: 'user', blocks: [{ type: 'text', text: 'a cat' }, { type: 'other', kind: '1 image, 1792x1024, hd' }] }] });
  });
});
