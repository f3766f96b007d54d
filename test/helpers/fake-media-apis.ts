import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The fake provider's OpenAI model APIs that are not chat, in their documented wire
 * formats: Moderations (/v1/moderations: one result per input, flagged when the text
 * says "attack"); the Image API (/v1/images/generations JSON, plain or streamed as
 * `image_generation.*` SSE; /v1/images/edits multipart): GPT image models answer base64
 * images with token usage, DALL·E models URLs with a revised prompt and no usage; the
 * Audio API (/v1/audio/transcriptions and /translations, multipart: JSON with token usage,
 * or whisper-1's duration, plain text, or `transcript.text.*` SSE; /v1/audio/speech: audio
 * bytes, or `speech.audio.*` SSE ending with token usage).
 */
export const MODERATION_MODEL = 'omni-moderation-2024-09-26';
/** A 1×1 PNG, base64: the image every answer carries. */
export const TINY_PNG_B64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';
export const IMAGE_USAGE = { input_tokens: 50, input_tokens_details: { text_tokens: 50, image_tokens: 0 }, output_tokens: 4160, total_tokens: 4210 };
export const EDIT_USAGE = { input_tokens: 373, input_tokens_details: { text_tokens: 50, image_tokens: 323 }, output_tokens: 4160, total_tokens: 4533 };

/** Handles the request when it is one of these endpoints; false otherwise. */
export function mediaRoute(req: IncomingMessage, res: ServerResponse, pathname: string, body: Buffer, json: Record<string, unknown>): boolean {
  if (pathname === '/v1/moderations') return moderations(res, json);
  if (pathname === '/v1/images/generations') return json.stream === true ? imageStream(res, 'image_generation') : images(res, json, IMAGE_USAGE);
  if (pathname === '/v1/images/edits') {
    const fields = formFields(req, body);
    return fields.stream === 'true' ? imageStream(res, 'image_edit') : images(res, { model: fields.model, n: Number(fields.n ?? 1) }, EDIT_USAGE);
  }
  if (pathname === '/v1/audio/transcriptions' || pathname === '/v1/audio/translations') return transcription(res, formFields(req, body));
  if (pathname === '/v1/audio/speech') return speech(res, json);
  return false;
}

export const TRANSCRIPT = 'Hello from the fake — ça va? 🎙️';
export const TRANSCRIBE_USAGE = { type: 'tokens', input_tokens: 14, input_token_details: { text_tokens: 0, audio_tokens: 14 }, output_tokens: 45, total_tokens: 59 };
export const WHISPER_SECONDS = 9;
export const SPEECH_USAGE = { input_tokens: 14, output_tokens: 101, total_tokens: 115 };
/** Bytes of the audio /v1/audio/speech answers (in one piece, or in two SSE deltas). */
export const SPEECH_BYTES = 3000;

function transcription(res: ServerResponse, fields: Record<string, string>): true {
  if (fields.stream === 'true') {
    const words = TRANSCRIPT.split(' ');
    const events = [...words.map((w, i) => ({ type: 'transcript.text.delta', delta: i === 0 ? w : ` ${w}`, logprobs: [] })), { type: 'transcript.text.done', text: TRANSCRIPT, usage: TRANSCRIBE_USAGE }];
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'x-request-id': 'req_fake_media' });
    res.end(events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join(''));
    return true;
  }
  if (fields.response_format === 'text' || fields.response_format === 'srt' || fields.response_format === 'vtt') {
    const text = `${TRANSCRIPT}\n`;
    res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(text) });
    res.end(text);
    return true;
  }
  const usage = fields.model === 'whisper-1' ? { type: 'duration', seconds: WHISPER_SECONDS } : TRANSCRIBE_USAGE;
  return sendJson(res, { text: TRANSCRIPT, usage });
}

function speech(res: ServerResponse, body: Record<string, unknown>): true {
  const audio = Buffer.alloc(SPEECH_BYTES, 0xfb);
  if (body.stream_format === 'sse') {
    res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'x-request-id': 'req_fake_media' });
    const half = SPEECH_BYTES / 2;
    const events = [{ type: 'speech.audio.delta', audio: audio.subarray(0, half).toString('base64') }, { type: 'speech.audio.delta', audio: audio.subarray(half).toString('base64') }, { type: 'speech.audio.done', usage: SPEECH_USAGE }];
    res.end(events.map((e) => `data: ${JSON.stringify(e)}\n\n`).join(''));
    return true;
  }
  res.writeHead(200, { 'content-type': 'audio/mpeg', 'content-length': audio.length });
  res.end(audio);
  return true;
}

function images(res: ServerResponse, body: Record<string, unknown>, usage: object): true {
  const model = typeof body.model === 'string' ? body.model : 'dall-e-2';
  const n = typeof body.n === 'number' ? body.n : 1;
  const created = 1_756_000_000;
  if (model.startsWith('dall-e')) {
    const data = Array.from({ length: n }, (_, i) => ({ url: `https://oaidalleapiprodscus.blob.core.windows.net/private/img-${i}.png`, revised_prompt: `A detailed rendering: ${String(body.prompt)}` }));
    return sendJson(res, { created, data });
  }
  const data = Array.from({ length: n }, () => ({ b64_json: TINY_PNG_B64 }));
  return sendJson(res, { created, background: 'opaque', data, output_format: 'png', quality: 'medium', size: '1024x1024', usage });
}

function imageStream(res: ServerResponse, prefix: 'image_generation' | 'image_edit'): true {
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'x-request-id': 'req_fake_media' });
  const common = { b64_json: TINY_PNG_B64, created_at: 1_756_000_000, size: '1024x1024', quality: 'medium', background: 'opaque', output_format: 'png' };
  const events = [
    { type: `${prefix}.partial_image`, ...common, partial_image_index: 0 },
    { type: `${prefix}.partial_image`, ...common, partial_image_index: 1 },
    { type: `${prefix}.completed`, ...common, usage: prefix === 'image_edit' ? EDIT_USAGE : IMAGE_USAGE },
  ];
  res.end(events.map((e) => `event: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`).join(''));
  return true;
}

/** A multipart body's text fields, read naively (enough for the fake: each value on its own lines). */
function formFields(req: IncomingMessage, body: Buffer): Record<string, string> {
  const boundary = /boundary=("?)([^";]+)\1/.exec(req.headers['content-type'] ?? '')?.[2];
  if (!boundary) return {};
  const fields: Record<string, string> = {};
  for (const part of body.toString('latin1').split(`--${boundary}`)) {
    const match = /name="([^"]+)"(?!; filename)[^\r]*\r\n(?:[^\r]+\r\n)*\r\n([\s\S]*)\r\n$/.exec(part);
    if (match && !/filename=/.test(part.slice(0, part.indexOf('\r\n\r\n')))) fields[match[1]!] = Buffer.from(match[2]!, 'latin1').toString('utf8');
  }
  return fields;
}

function moderations(res: ServerResponse, body: Record<string, unknown>): true {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const results = inputs.map((input) => {
    const flagged = JSON.stringify(input ?? '').includes('attack');
    const categories = { harassment: false, 'harassment/threatening': flagged, hate: false, violence: flagged, 'self-harm': false, sexual: false };
    const scores = Object.fromEntries(Object.entries(categories).map(([name, on]) => [name, on ? 0.91 : 0.0012]));
    return { flagged, categories, category_scores: scores, category_applied_input_types: Object.fromEntries(Object.keys(categories).map((name) => [name, ['text']])) };
  });
  return sendJson(res, { id: 'modr-fake1', model: MODERATION_MODEL, results });
}

function sendJson(res: ServerResponse, value: unknown): true {
  const payload = JSON.stringify(value);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'x-request-id': 'req_fake_media' });
  res.end(payload);
  return true;
}
