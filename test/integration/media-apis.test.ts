import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import OpenAI, { toFile } from 'openai';
import { fetch as undiciFetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { eventually, exported } from '../helpers/archive.js';
import { EDIT_USAGE, IMAGE_USAGE, SPEECH_BYTES, SPEECH_USAGE, TINY_PNG_B64, TRANSCRIBE_USAGE, TRANSCRIPT, WHISPER_SECONDS } from '../helpers/fake-media-apis.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * OpenAI's model APIs that are not chat, through llmtap with the official openai SDK:
 * moderations, images (generations plain and streamed, multipart edits), audio
 * (transcriptions as JSON, text and SSE; speech as audio bytes and SSE). Each is recorded with its own API kind, model, usage and cost (or the
 * reason it has none), and `llmtap show` reads it.
 */
const run = promisify(execFile);
let fake: FakeProvider;
let tp: TestProxy;
let client: OpenAI;

beforeAll(async () => {
  fake = await startFakeProvider();
  // Redaction of message text, and a rule refusing keys: an upload's text fields are read, its files never.
  const policy = loadPolicyText('rules:\n  - {id: pii, match: {api: [images, audio.transcriptions]}, redact: {detectors: [email]}}\n  - {id: no-keys, match: {api: [images]}, redact: {detectors: [api_key], action: block}}\n', 'policy.yaml');
  tp = await startTestProxy(fake, { connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${fake.port}`)], policy });
  client = new OpenAI({ apiKey: 'sk-test-media-0123456789abcdef', fetch: uploadingFetch, fetchOptions: { dispatcher: tp.agent } as never, maxRetries: 0 });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

/** Multipart bodies the SDK sent, as bytes, in order. */
const uploads: Buffer[] = [];

/**
 * undici's fetch (Node 20's own ignores proxies) for the SDK, which builds uploads with the
 * global FormData that npm undici cannot encode: encoded here by Node's own Request (what
 * the SDK would send with the global fetch) and kept, so the test knows the exact bytes.
 */
const uploadingFetch = Object.assign(async (url: string | URL | Request, init?: RequestInit): Promise<Response> => {
  if (init?.body instanceof FormData) {
    const encoded = new Request('http://encode.invalid/', { method: 'POST', body: init.body });
    const bytes = Buffer.from(await encoded.arrayBuffer());
    uploads.push(bytes);
    const headers = new Headers(init.headers);
    headers.set('content-type', encoded.headers.get('content-type')!);
    init = { ...init, body: bytes, headers };
  }
  return undiciFetch(url as string, init as never) as unknown as Response;
}, { Response });

/** A stored request body's bytes, as the archive keeps it. */
const storedBody = (r: { request: { body?: string | null; body_encoding?: 'base64' } }): Buffer => Buffer.from(r.request.body ?? '', r.request.body_encoding === 'base64' ? 'base64' : 'utf8');

/** An upload as the policy should forward it: its email replaced, every other byte (the file's, the boundary) as sent. */
const withPlaceholder = (sent: Buffer): Buffer => Buffer.from(sent.toString('latin1').replace('jane@corp.example', '[REDACTED:email:1]'), 'latin1');

const cli = async (...args: string[]): Promise<string> => (await run('node', [resolve('dist/cli/main.js'), '--home', tp.home, ...args])).stdout;
const recorded = (path: string, n: number) => eventually(() => {
  const rows = exported(tp).filter((e) => e.path === path);
  if (rows.length < n) throw new Error(`${rows.length}/${n} recorded`);
  return rows;
});

describe('moderations through the proxy', () => {
  it('records the model, the verdict as the answer\'s text and a $0 cost; show reads the input', async () => {
    const answer = await client.moderations.create({ model: 'omni-moderation-latest', input: ['a quiet walk in the park', 'plan the attack at dawn'] });
    expect(answer.results.map((r) => r.flagged)).toEqual([false, true]);
    const [rec] = await recorded('/v1/moderations', 1);
    expect([rec!.provider, rec!.api, rec!.model, rec!.response?.text, rec!.cost_usd]).toEqual([
      'openai', 'moderations', 'omni-moderation-latest', '#0 not flagged\n#1 flagged: harassment/threatening, violence', 0,
    ]);
    const shown = await cli('show', rec!.session_id!);
    expect(shown).toMatch(/user\n\s+a quiet walk in the park\n\s+user\n\s+plan the attack at dawn/);
    expect(shown).toContain('#1 flagged: harassment/threatening, violence');
    expect(shown).not.toContain('cost not known');
  });
});

describe('images through the proxy', () => {
  it('records generations (GPT image tokens priced, DALL·E unpriced saying why, a stream\'s usage) with the prompt redacted and shown', async () => {
    const plain = await client.images.generate({ model: 'gpt-image-1', prompt: 'a poster for jane@corp.example', n: 2, size: '1024x1024' });
    expect(plain.data?.map((d) => d.b64_json)).toEqual([TINY_PNG_B64, TINY_PNG_B64]);
    const dalle = await client.images.generate({ model: 'dall-e-3', prompt: 'a lighthouse at dusk', size: '1792x1024', quality: 'hd' });
    expect(dalle.data?.[0]?.revised_prompt).toContain('lighthouse');
    const stream = await client.images.generate({ model: 'gpt-image-1', prompt: 'a red kite', stream: true, partial_images: 2 });
    const types: string[] = [];
    for await (const event of stream) types.push(event.type);
    expect(types).toEqual(['image_generation.partial_image', 'image_generation.partial_image', 'image_generation.completed']);

    const recs = await recorded('/v1/images/generations', 3);
    expect(recs.map((r) => [r.api, r.model, r.stream, r.usage.input_tokens, r.usage.output_tokens, r.response?.text])).toEqual([
      ['images', 'gpt-image-1', false, IMAGE_USAGE.input_tokens, IMAGE_USAGE.output_tokens, '2 images, 1024x1024'],
      ['images', 'dall-e-3', false, null, null, '1 image\nrevised prompt: A detailed rendering: a lighthouse at dusk'],
      ['images', 'gpt-image-1', true, IMAGE_USAGE.input_tokens, IMAGE_USAGE.output_tokens, '1 image, 1024x1024 (2 partial)'],
    ]);
    // gpt-image-1: $5 per million text input tokens, $40 per million output (image) tokens.
    const gptCost = (IMAGE_USAGE.input_tokens * 5 + IMAGE_USAGE.output_tokens * 40) / 1e6;
    expect(recs.map((r) => r.cost_usd)).toEqual([expect.closeTo(gptCost, 9), null, expect.closeTo(gptCost, 9)]);
    // The prompt went up, and is kept, with the address replaced.
    expect(fake.seen.find((s) => s.url === '/v1/images/generations')!.body.toString()).toContain('a poster for [REDACTED:email:1]');
    const shown = await cli('show', recs[0]!.session_id!);
    expect(shown).toMatch(/user\n\s+a poster for \[REDACTED:email:1\]\n\s+user\s+\[2 images, 1024x1024\]/);
    expect(shown).toContain('2 images, 1024x1024');
    expect(await cli('show', recs[1]!.session_id!)).toContain('cost not known: dall-e-3 bills per image (by size and quality)');
  });

  it('an edit\'s prompt is redacted inside its multipart upload, the image and the boundary as sent, the archive without the address; its image tokens are priced', async () => {
    const first = uploads.length;
    const png = Buffer.from(TINY_PNG_B64, 'base64');
    const answer = await client.images.edit({ model: 'gpt-image-1', prompt: 'add a hat for jane@corp.example', image: await toFile(png, 'cat.png', { type: 'image/png' }) });
    expect(answer.usage?.input_tokens).toBe(EDIT_USAGE.input_tokens);
    // By hand, with bytes of our own (a key-shaped string inside the file must not make the proxy refuse or rewrite it).
    const boundary = '----llmtap-test-boundary';
    const file = Buffer.concat([png, Buffer.from(' sk-proj-notakey0123456789abcdefghijk jane@corp.example \u0000\u00ff')]);
    const body = Buffer.concat([
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="model"\r\n\r\ngpt-image-1\r\n--${boundary}\r\nContent-Disposition: form-data; name="prompt"\r\n\r\nmail jane@corp.example\r\n`),
      Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="image"; filename="cat.png"\r\nContent-Type: image/png\r\n\r\n`), file, Buffer.from(`\r\n--${boundary}--\r\n`),
    ]);
    const res = await undiciFetch('https://api.openai.com/v1/images/edits', { method: 'POST', body, headers: { 'content-type': `multipart/form-data; boundary=${boundary}`, authorization: 'Bearer sk-test-media-0123456789abcdef' }, dispatcher: tp.agent });
    expect(res.status).toBe(200);
    await res.arrayBuffer();
    const edits = fake.seen.filter((s) => s.url === '/v1/images/edits');
    expect(edits).toHaveLength(2);
    // The SDK's upload: only the prompt's address changed; the image's bytes arrived as sent, with a Content-Length to match.
    expect(edits[0]!.body.equals(withPlaceholder(uploads[first]!))).toBe(true);
    expect(edits[0]!.body.toString('latin1')).toContain('add a hat for [REDACTED:email:1]');
    expect(edits[0]!.body.includes(png)).toBe(true);
    const length = edits[0]!.rawHeaders.findIndex((h) => h.toLowerCase() === 'content-length');
    expect(edits[0]!.rawHeaders[length + 1]).toBe(String(edits[0]!.body.length));
    // By hand: the prompt rewritten; the file, its key-shaped string and its address untouched.
    expect(edits[1]!.body.equals(withPlaceholder(body))).toBe(true);
    expect(edits[1]!.body.includes(file)).toBe(true);
    const recs = await recorded('/v1/images/edits', 2);
    // gpt-image-1 input: 50 text tokens at $5 per million, 323 image tokens at $10; output at $40.
    const editCost = (50 * 5 + 323 * 10 + EDIT_USAGE.output_tokens * 40) / 1e6;
    const redacted = { decisions: [{ rule: 'pii', kind: 'redact', action: 'replace', enforced: true, hits: [{ detector: 'email', at: 'form:prompt', count: 1 }] }], bodyChanged: true };
    expect(recs.map((r) => [r.api, r.model, r.stream, r.usage.input_tokens, r.cost_usd, r.policy])).toEqual([
      ['images', 'gpt-image-1', false, EDIT_USAGE.input_tokens, expect.closeTo(editCost, 9), redacted],
      ['images', 'gpt-image-1', false, EDIT_USAGE.input_tokens, expect.closeTo(editCost, 9), redacted],
    ]);
    // The image part of the input is kept with the row (usage_parts), so a re-price reads it back.
    expect(recs.map((r) => r.usage.input_image_tokens)).toEqual([323, 323]);
    // The archive keeps what went up: the SDK's upload holds no address at all; the hand-made one only inside its file.
    expect(storedBody(recs[0]!).equals(edits[0]!.body)).toBe(true);
    expect(storedBody(recs[0]!).includes('jane@corp.example')).toBe(false);
    expect(storedBody(recs[1]!).toString('latin1')).toContain('mail [REDACTED:email:1]\r\n');
    // show reads the upload's prompt field, as it went up.
    expect(await cli('show', recs[0]!.id)).toMatch(/user\n\s+add a hat for \[REDACTED:email:1\]\n\s+user\s+\[1 image\]/);
  });

  it('a key in an edit\'s prompt is refused by the block rule: the SDK\'s typed error, nothing sent, the archive keeps a placeholder', async () => {
    const sent = fake.seen.length;
    const key = 'sk-proj-Zq3abcdefghijklmnopqrstuvwxyz0123456789';
    const err: unknown = await client.images.edit({ model: 'gpt-image-1', prompt: `sign in with ${key}`, image: await toFile(Buffer.from(TINY_PNG_B64, 'base64'), 'cat.png', { type: 'image/png' }) }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const refusal = err as InstanceType<typeof OpenAI.BadRequestError>;
    expect([refusal.status, refusal.code]).toEqual([400, 'content_blocked']);
    expect(refusal.message).toContain('api_key (at form:prompt)');
    expect(fake.seen.length).toBe(sent);
    const rec = (await recorded('/v1/images/edits', 3))[2]!;
    expect(rec.policy).toMatchObject({ blocked: 'content_blocked', decisions: [{ rule: 'no-keys', hits: [{ detector: 'api_key', at: 'form:prompt', count: 1 }] }] });
    const stored = storedBody(rec).toString('latin1');
    expect(stored).toContain('sign in with [REDACTED:api_key:1]');
    expect(stored).not.toContain(key);
  });
});

/** A short mono 16-bit PCM WAV: a 440 Hz tone. */
function wav(samples = 800, rate = 8000): Buffer {
  const header = Buffer.alloc(44);
  header.write('RIFF', 0, 'latin1');
  header.writeUInt32LE(36 + samples * 2, 4);
  header.write('WAVEfmt ', 8, 'latin1');
  header.writeUInt32LE(16, 16);
  header.writeUInt16LE(1, 20);
  header.writeUInt16LE(1, 22);
  header.writeUInt32LE(rate, 24);
  header.writeUInt32LE(rate * 2, 28);
  header.writeUInt16LE(2, 32);
  header.writeUInt16LE(16, 34);
  header.write('data', 36, 'latin1');
  header.writeUInt32LE(samples * 2, 40);
  const pcm = Buffer.alloc(samples * 2);
  for (let i = 0; i < samples; i++) pcm.writeInt16LE(Math.round(Math.sin((2 * Math.PI * 440 * i) / rate) * 12000), i * 2);
  return Buffer.concat([header, pcm]);
}

describe('audio through the proxy', () => {
  it('records transcriptions (tokens priced, whisper-1 by its duration, a text answer unpriced saying why, a stream), the upload forwarded byte for byte', async () => {
    const audio = wav();
    const first = uploads.length;
    const json = await client.audio.transcriptions.create({ model: 'gpt-4o-transcribe', file: await toFile(audio, 'hello.wav', { type: 'audio/wav' }) });
    expect(json.text).toBe(TRANSCRIPT);
    await client.audio.transcriptions.create({ model: 'whisper-1', file: await toFile(audio, 'hello.wav', { type: 'audio/wav' }) });
    const text = await client.audio.transcriptions.create({ model: 'whisper-1', file: await toFile(audio, 'hello.wav', { type: 'audio/wav' }), response_format: 'text' });
    expect(String(text).trim()).toBe(TRANSCRIPT);
    const stream = await client.audio.transcriptions.create({ model: 'gpt-4o-mini-transcribe', file: await toFile(audio, 'hello.wav', { type: 'audio/wav' }), stream: true });
    let streamed = '';
    for await (const event of stream) if (event.type === 'transcript.text.delta') streamed += event.delta;
    expect(streamed).toBe(TRANSCRIPT);

    const sent = fake.seen.filter((s) => s.url === '/v1/audio/transcriptions');
    expect(sent).toHaveLength(4);
    sent.forEach((s, i) => expect(s.body.equals(uploads[first + i]!)).toBe(true));
    expect(sent[0]!.body.includes(audio)).toBe(true);

    const recs = await recorded('/v1/audio/transcriptions', 4);
    expect(recs.map((r) => [r.api, r.model, r.stream, r.usage.input_tokens, r.usage.input_audio_tokens, r.usage.output_tokens, r.response?.text])).toEqual([
      ['audio.transcriptions', 'gpt-4o-transcribe', false, 14, 14, 45, TRANSCRIPT],
      ['audio.transcriptions', 'whisper-1', false, null, null, null, TRANSCRIPT],
      ['audio.transcriptions', 'whisper-1', false, null, null, null, TRANSCRIPT],
      ['audio.transcriptions', 'gpt-4o-mini-transcribe', true, 14, 14, 45, TRANSCRIPT],
    ]);
    // gpt-4o-transcribe: audio input $6/M, output $10/M; whisper-1: $0.006 a minute; gpt-4o-mini-transcribe: audio $3/M, output $5/M.
    expect(recs.map((r) => r.cost_usd)).toEqual([
      expect.closeTo((TRANSCRIBE_USAGE.input_tokens * 6 + TRANSCRIBE_USAGE.output_tokens * 10) / 1e6, 9), expect.closeTo((WHISPER_SECONDS / 60) * 0.006, 9), null,
      expect.closeTo((TRANSCRIBE_USAGE.input_tokens * 3 + TRANSCRIBE_USAGE.output_tokens * 5) / 1e6, 9),
    ]);
    expect(await cli('show', recs[0]!.session_id!)).toContain(TRANSCRIPT);
    expect(await cli('show', recs[2]!.id)).toContain('cost not known: the answer reports no usage (a transcript as text, srt or vtt carries none');
    // whisper-1's seconds are kept with its row (usage_parts): exported, and shown beside its (absent) token counts.
    expect(recs.map((r) => r.usage.input_audio_seconds)).toEqual([null, WHISPER_SECONDS, null, null]);
    expect(await cli('show', recs[1]!.id)).toContain(` · ${WHISPER_SECONDS} s of audio · `);
  });

  it('a transcription\'s prompt is redacted inside its upload, the audio as sent', async () => {
    const audio = wav();
    const first = uploads.length;
    const json = await client.audio.transcriptions.create({ model: 'gpt-4o-transcribe', file: await toFile(audio, 'hello.wav', { type: 'audio/wav' }), prompt: 'speakers: Jane (jane@corp.example)' });
    expect(json.text).toBe(TRANSCRIPT);
    const sent = fake.seen.filter((s) => s.url === '/v1/audio/transcriptions').at(-1)!;
    expect(sent.body.equals(withPlaceholder(uploads[first]!))).toBe(true);
    expect(sent.body.includes(audio)).toBe(true);
    const rec = (await recorded('/v1/audio/transcriptions', 5))[4]!;
    expect(rec.policy).toEqual({ decisions: [{ rule: 'pii', kind: 'redact', action: 'replace', enforced: true, hits: [{ detector: 'email', at: 'form:prompt', count: 1 }] }], bodyChanged: true });
    expect(storedBody(rec).equals(sent.body)).toBe(true);
  });

  it('records speech: the text spoken (shown), audio described, the SSE usage priced; tts-1 unpriced, saying why', async () => {
    const sseAnswer = await client.audio.speech.create({ model: 'gpt-4o-mini-tts', input: 'Good morning, listeners.', voice: 'coral', instructions: 'Speak warmly.', stream_format: 'sse' });
    expect(await sseAnswer.text()).toContain('speech.audio.done');
    const bytes = await client.audio.speech.create({ model: 'tts-1', input: 'Good night.', voice: 'alloy' });
    expect((await bytes.arrayBuffer()).byteLength).toBe(SPEECH_BYTES);

    const recs = await recorded('/v1/audio/speech', 2);
    expect(recs.map((r) => [r.api, r.model, r.stream, r.usage.input_tokens, r.usage.output_tokens, r.response?.text])).toEqual([
      ['audio.speech', 'gpt-4o-mini-tts', true, SPEECH_USAGE.input_tokens, SPEECH_USAGE.output_tokens, `audio, ${SPEECH_BYTES} bytes`],
      ['audio.speech', 'tts-1', false, null, null, `audio/mpeg, ${SPEECH_BYTES} bytes`],
    ]);
    // gpt-4o-mini-tts: $0.60/M input, $12/M output.
    expect(recs.map((r) => r.cost_usd)).toEqual([expect.closeTo((SPEECH_USAGE.input_tokens * 0.6 + SPEECH_USAGE.output_tokens * 12) / 1e6, 9), null]);
    const shown = await cli('show', recs[0]!.session_id!);
    expect(shown).toContain('system prompt 13 chars');
    expect(shown).toMatch(/user\n\s+Good morning, listeners\.\n\s+user\s+\[voice coral\]/);
    expect(await cli('show', recs[1]!.id)).toContain('cost not known: tts-1 bills per character of input');
  });
});
