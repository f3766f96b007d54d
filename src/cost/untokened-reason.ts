import type { ExchangeRow } from '../recorder/row-types.js';

type Row = Pick<ExchangeRow, 'api' | 'provider' | 'model' | 'status'>;

/**
 * Why a successful (2xx) answer that counted no tokens has no cost, for the APIs billed in
 * units the archive has no tokens for; undefined for any other (an API that is simply free,
 * or an error answer, which nobody is billed for).
 */
export function untokenedReason(row: Row): string | undefined {
  if (row.status === null || row.status < 200 || row.status > 299) return undefined;
  const model = row.model ?? 'this model';
  switch (row.api) {
    // Cohere bills a rerank in search units (`meta.billed_units.search_units`, kept in the stored body).
    case 'rerank':
      return row.provider === 'cohere' ? 'Cohere bills rerank in search units (meta.billed_units.search_units in the stored answer), which llmtap does not price: the price list has no rate for them' : undefined;
    // DALL·E bills each image by its size and quality.
    case 'images':
      return `${model} bills per image (by size and quality) and its answer counts no tokens, which llmtap does not price: the price list has no per-image rates`;
    // Mistral's moderation is billed per input token, which its answers count in `usage`; OpenAI's is free (no reason).
    case 'moderations':
      return row.provider === 'mistral' ? `Mistral bills moderation per token of input, and this answer counted none (no usage), so ${model} is not priced` : undefined;
    // Groq reports the audio's length only in a verbose_json answer (`duration`).
    case 'audio.transcriptions':
      if (row.provider === 'groq') return `Groq bills transcription by the audio's length, which only a verbose_json answer reports (its duration): this answer (json, text) has none, so ${model} is not priced`;
      // A transcript as text, srt or vtt carries no usage (OpenAI's JSON answers do: tokens, or whisper-1's duration).
      return `the answer reports no usage (a transcript as text, srt or vtt carries none), so ${model} is not priced`;
    case 'audio.speech':
      return /^tts-1/.test(model)
        ? `${model} bills per character of input, which llmtap does not price: the price list has no per-character rates`
        : `the answer is audio and reports no usage (only stream_format "sse" ends with one), so ${model} is not priced`;
    default:
      return undefined;
  }
}
