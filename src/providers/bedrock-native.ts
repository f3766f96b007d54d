import { asObject, type JsonObject } from './json.js';

/** What one InvokeModel answer or stream chunk of a non-Claude, non-Nova family says. */
export interface NativePiece {
  text: string;
  stopReason?: string;
  /** Prompt tokens, when the family's body counts them (Llama, Titan, AI21). */
  inputTokens?: number;
  /** Output tokens so far: every family that counts them in the body keeps a running total. */
  outputTokens?: number;
}

/**
 * The native bodies of the text families Bedrock's InvokeModel serves, told apart by
 * shape (streamed chunks share their answer's shape):
 * - Meta Llama: `generation`, `prompt_token_count`, `generation_token_count`, `stop_reason`;
 * - Mistral (7B, Mixtral, Large 2402): `outputs: [{text, stop_reason}]`;
 * - OpenAI-chat-shaped (Mistral Large 2407, AI21 Jamba, DeepSeek): `choices` with
 *   `message.content`, `delta.content` or `text`, and `usage.prompt_tokens/completion_tokens`;
 * - Amazon Titan Text: `results: [{outputText, tokenCount, completionReason}]` and
 *   `inputTextTokenCount`; streamed, `outputText` and `totalOutputTextTokenCount`;
 * - Cohere Command: `generations: [{text, finish_reason}]`; Command R and streamed
 *   chunks: `text`, `finish_reason`.
 * Returns undefined for a shape none of these has.
 */
export function readNativeChunk(chunk: JsonObject): NativePiece | undefined {
  if (typeof chunk.generation === 'string') {
    return counted(piece(chunk.generation, chunk.stop_reason), chunk.prompt_token_count, chunk.generation_token_count);
  }
  if (Array.isArray(chunk.outputs)) return joined(chunk.outputs, (o) => [str(o.text), str(o.stop_reason)]);
  if (Array.isArray(chunk.choices)) {
    const read = joined(chunk.choices, (c) => [str(asObject(c.message)?.content) ?? str(asObject(c.delta)?.content) ?? str(c.text), str(c.finish_reason) ?? str(c.stop_reason)]);
    const usage = asObject(chunk.usage);
    return counted(read, usage?.prompt_tokens, usage?.completion_tokens);
  }
  if (Array.isArray(chunk.results)) {
    const read = joined(chunk.results, (r) => [str(r.outputText), str(r.completionReason)]);
    const output = chunk.results.reduce<number | undefined>((sum, r) => {
      const n = asObject(r)?.tokenCount;
      return typeof n === 'number' ? (sum ?? 0) + n : sum;
    }, undefined);
    return counted(read, chunk.inputTextTokenCount, output);
  }
  if (typeof chunk.outputText === 'string') {
    return counted(piece(chunk.outputText, chunk.completionReason), chunk.inputTextTokenCount, chunk.totalOutputTextTokenCount);
  }
  if (Array.isArray(chunk.generations)) return joined(chunk.generations, (g) => [str(g.text), str(g.finish_reason)]);
  if (typeof chunk.text === 'string' || typeof chunk.finish_reason === 'string') return piece(str(chunk.text) ?? '', chunk.finish_reason);
  return undefined;
}

function piece(text: string, stop: unknown): NativePiece {
  return typeof stop === 'string' ? { text, stopReason: stop } : { text };
}

function joined(items: unknown[], read: (item: JsonObject) => [string | undefined, string | undefined]): NativePiece {
  const out: NativePiece = { text: '' };
  for (const raw of items) {
    const item = asObject(raw);
    if (!item) continue;
    const [text, stop] = read(item);
    out.text += text ?? '';
    if (stop !== undefined) out.stopReason = stop;
  }
  return out;
}

function counted(out: NativePiece, input: unknown, output: unknown): NativePiece {
  if (typeof input === 'number' && Number.isFinite(input)) out.inputTokens = input;
  if (typeof output === 'number' && Number.isFinite(output)) out.outputTokens = output;
  return out;
}

function str(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
