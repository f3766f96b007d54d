import type { Reassembled, Usage } from '../exchange.js';
import { asObject, readModelAndStream, wholeJsonReducer, type JsonObject } from './json.js';
import { errorStopReason, readUsage } from './openai.js';
import { doneTerminatedReducer, isEventStream } from './sse.js';
import type { ProviderParser, ResponseReducer } from './types.js';

/**
 * OpenAI's legacy text Completions API (POST …/completions, and the older
 * …/engines/{engine}/completions that GitHub Copilot's inline suggestions still use):
 * a `prompt` (and for fill-in-the-middle a `suffix`) in, `choices[].text` out. Also
 * spoken by local servers (vLLM, llama.cpp, LM Studio) and FIM endpoints (DeepSeek's
 * /beta/completions; Mistral's /v1/fim/completions, whose answer is chat-shaped, so a
 * choice's `message.content` / `delta.content` is read as its text too).
 *
 * A stream is `data:` events of text_completion objects ended by `data: [DONE]`, usage
 * only in a last chunk when `stream_options.include_usage` asked for it (Copilot never
 * does: the archive estimates such answers, cost/usage-estimate.ts).
 */
export const openaiCompletions: ProviderParser = {
  parseRequest: readModelAndStream,
  createReducer: (contentType) => (isEventStream(contentType) ? createStreamReducer() : wholeJsonReducer((body) => {
    const acc = new CompletionAccumulator(false);
    if (body) acc.add(body);
    return acc.result(0);
  })),
};

function createStreamReducer(): ResponseReducer {
  const acc = new CompletionAccumulator(true);
  return doneTerminatedReducer((chunk) => acc.add(chunk), (events) => acc.result(events));
}

class CompletionAccumulator {
  private model: string | undefined;
  private text = '';
  private stopReason: string | undefined;
  private usage: Usage | undefined;
  private failed = false;

  /** `streamed`: chunks of an event stream, where an error says why the answer stopped. */
  constructor(private readonly streamed: boolean) {}

  add(chunk: JsonObject): void {
    // An error instead of (or in the middle of) an answer: as in Chat Completions (openai.ts).
    const error = asObject(chunk.error);
    if (error) {
      if (this.streamed) this.stopReason = errorStopReason(error);
      this.failed = true;
      return;
    }
    if (this.model === undefined && typeof chunk.model === 'string' && chunk.model !== '') this.model = chunk.model;
    const usage = readUsage(asObject(chunk.usage));
    if (usage) this.usage = usage;
    if (!Array.isArray(chunk.choices)) return;
    for (const item of chunk.choices) {
      const choice = asObject(item);
      // With n > 1 the choices interleave; as for Chat Completions, the first is kept.
      if (!choice || (typeof choice.index === 'number' && choice.index !== 0)) continue;
      if (typeof choice.finish_reason === 'string') this.stopReason = choice.finish_reason;
      if (typeof choice.text === 'string') this.text += choice.text;
      else {
        const content = (asObject(choice.delta) ?? asObject(choice.message))?.content;
        if (typeof content === 'string') this.text += content;
      }
    }
  }

  result(events: number): Reassembled {
    const result: Reassembled = { text: this.text, toolCalls: [], events };
    if (this.model !== undefined) result.model = this.model;
    if (this.usage) result.usage = { ...this.usage };
    if (this.stopReason !== undefined) result.stopReason = this.stopReason;
    if (this.failed) result.failed = true;
    return result;
  }
}
