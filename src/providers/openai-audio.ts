import type { Reassembled, Usage } from '../exchange.js';
import { asObject, parseJson, parseJsonBody } from './json.js';
import { multipartBoundary, multipartFields } from './multipart-fields.js';
import { isEventStream, typedEventReducer } from './sse.js';
import type { ProviderParser, RequestFacts, ResponseReducer } from './types.js';
import { mediaType } from './media-type.js';

/**
 * OpenAI's Audio API, speech to text: transcriptions and translations, a multipart upload
 * (only the `model` and `stream` form fields are read here; the audio goes up untouched, a
 * redact rule rewriting only text fields: policy/redact-form.ts) answered
 * with JSON `{text, usage?}` (verbose_json adds segments), plain text (`text`, `srt`, `vtt`),
 * or with `stream: true` SSE `transcript.text.delta` / `transcript.text.done`. The transcript
 * is the answer's text. Usage: the GPT-4o transcribe models' tokens (`input_token_details.
 * audio_tokens` the audio part of the input), whisper-1's `{type: "duration", seconds}`;
 * an answer without usage (Groq's) is its verbose_json `duration`, the seconds it bills.
 */
export const openaiTranscriptions: ProviderParser = {
  parseRequest(body, contentType): RequestFacts {
    if (multipartBoundary(contentType) === undefined) return {};
    const fields = multipartFields(body, contentType, ['model', 'stream']);
    const facts: RequestFacts = { stream: fields.stream === 'true' };
    if (fields.model !== undefined && fields.model !== '') facts.model = fields.model;
    return facts;
  },
  createReducer: (contentType) => (isEventStream(contentType) ? transcriptStream() : wholeText(contentType)),
};

/**
 * Text to speech (`POST /v1/audio/speech`): `{model, input, voice, instructions,
 * stream_format}` in; audio bytes out, or with `stream_format: "sse"` SSE
 * `speech.audio.delta` (base64 audio) and `speech.audio.done` carrying the usage
 * (gpt-4o-mini-tts). The answer's text says what came back (`audio/mpeg, 48000 bytes`);
 * the audio itself stays in the stored body as captured.
 */
export const openaiSpeech: ProviderParser = {
  parseRequest(body): RequestFacts {
    const request = asObject(parseJsonBody(body));
    if (!request) return {};
    const facts: RequestFacts = { stream: request.stream_format === 'sse' };
    if (typeof request.model === 'string') facts.model = request.model;
    return facts;
  },
  createReducer: (contentType) => (isEventStream(contentType) ? speechStream() : audioBytes(contentType)),
};

function transcriptStream(): ResponseReducer {
  let deltas = '';
  let done: string | undefined;
  let usage: Usage | undefined;
  return typedEventReducer((type, event) => {
    if (type === 'transcript.text.delta' && typeof event.delta === 'string') deltas += event.delta;
    if (type === 'transcript.text.done') {
      if (typeof event.text === 'string') done = event.text;
      usage = audioUsage(event.usage) ?? usage;
    }
  }, (events) => {
    const result: Reassembled = { text: done ?? deltas, toolCalls: [], events };
    if (usage) result.usage = usage;
    return result;
  });
}

/** A whole answer: JSON (`{text, usage}`) or the transcript itself (text, srt, vtt). */
function wholeText(contentType: string | undefined): ResponseReducer {
  const chunks: Buffer[] = [];
  return {
    push: (chunk) => void chunks.push(chunk),
    finish: () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const result: Reassembled = { text: '', toolCalls: [], events: 0 };
      if (/^\s*text\//i.test(contentType ?? '')) {
        result.text = text.replace(/\n$/, '');
        return result;
      }
      const body = asObject(parseJson(text));
      if (typeof body?.text === 'string') result.text = body.text;
      // Groq's answers report no usage; its verbose_json gives the audio's `duration` (seconds), what Groq bills.
      const usage = audioUsage(body?.usage) ?? (isCount(body?.duration) ? { inputAudioSeconds: body.duration } : undefined);
      if (usage) result.usage = usage;
      return result;
    },
  };
}

function speechStream(): ResponseReducer {
  let bytes = 0;
  let usage: Usage | undefined;
  return typedEventReducer((type, event) => {
    if (type === 'speech.audio.delta' && typeof event.audio === 'string') bytes += base64Length(event.audio);
    if (type === 'speech.audio.done') usage = audioUsage(event.usage) ?? usage;
  }, (events) => {
    const result: Reassembled = { text: bytes > 0 ? `audio, ${bytes} bytes` : '', toolCalls: [], events };
    if (usage) result.usage = usage;
    return result;
  });
}

/** Audio bytes (or an error's JSON): what came back, never the bytes themselves. */
function audioBytes(contentType: string | undefined): ResponseReducer {
  let bytes = 0;
  const type = mediaType(contentType);
  return {
    push: (chunk) => void (bytes += chunk.length),
    finish: () => ({ text: type.startsWith('audio/') || type === 'application/octet-stream' ? `${type}, ${bytes} bytes` : '', toolCalls: [], events: 0 }),
  };
}

/**
 * The Audio API's usage: tokens (`input_tokens` with `input_token_details.audio_tokens`,
 * `output_tokens`) or, for whisper-1, the audio's duration (`{type: "duration", seconds}`).
 */
export function audioUsage(value: unknown): Usage | undefined {
  const raw = asObject(value);
  if (!raw) return undefined;
  const usage: Usage = {};
  if (raw.type === 'duration') {
    if (isCount(raw.seconds)) usage.inputAudioSeconds = raw.seconds;
    return usage.inputAudioSeconds === undefined ? undefined : usage;
  }
  if (isCount(raw.input_tokens)) usage.inputTokens = raw.input_tokens;
  if (isCount(raw.output_tokens)) usage.outputTokens = raw.output_tokens;
  const audio = asObject(raw.input_token_details)?.audio_tokens;
  if (isCount(audio) && audio > 0) usage.inputAudioTokens = audio;
  return usage.inputTokens === undefined && usage.outputTokens === undefined ? undefined : usage;
}

function isCount(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0;
}

/** Bytes a base64 text decodes to, without decoding it. */
function base64Length(text: string): number {
  const padding = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  return Math.floor((text.length * 3) / 4) - padding;
}
