import { asObject, parseJson, readModelAndStream, wholeJsonReducer } from './json.js';
import { createResponsesEventReducer } from './responses-events.js';
import { createSseReader, isEventStream } from './sse.js';
import type { ProviderParser, ResponseReducer } from './types.js';

/**
 * OpenAI Responses API (POST …/responses): api.openai.com, Azure's /openai/v1/responses,
 * xAI, and Codex with ChatGPT sign-in (chatgpt.com/backend-api/codex/responses).
 *
 * A plain answer is one Response object; it is read as if it were the stream's final
 * `response.completed`, so JSON and SSE go through the same event reducer.
 */
export const openaiResponses: ProviderParser = {
  parseRequest: readModelAndStream,
  createReducer: (contentType) => (isEventStream(contentType) ? createStreamReducer() : wholeJsonReducer((body) => {
    const reducer = createResponsesEventReducer();
    if (body) reducer.add({ type: 'response.completed', response: body });
    return { ...reducer.result(), events: 0 };
  })),
};

function createStreamReducer(): ResponseReducer {
  const reducer = createResponsesEventReducer();
  const reader = createSseReader(({ event, data }) => {
    const payload = asObject(parseJson(data));
    // Every payload repeats its event name in `type`; the `event:` line is the fallback.
    reducer.add(payload && typeof payload.type !== 'string' && event !== undefined ? { ...payload, type: event } : payload ?? data);
  });
  return {
    push: (chunk) => reader.push(chunk),
    finish() {
      reader.end();
      return reducer.result();
    },
  };
}
