/**
 * Triggers the fake provider answers with a provider's own failure instead of an answer.
 * A streamed request whose messages or contents contain this string is answered in part,
 * then ended by the provider's mid-stream error: Anthropic's `error` event, OpenAI Chat's
 * `{error: …}` chunk, Gemini's `{error: …}` chunk, Bedrock's exception frame.
 */
export const FAIL_MID_STREAM = 'fail this stream part-way';

/**
 * A streamed Anthropic request whose messages contain this string gets its 200 and headers,
 * then nothing until the client leaves (at most 5 s): a stream cut before message_start.
 */
export const HOLD_BEFORE_START = 'hold the answer before message_start';

/**
 * A Claude invoke-with-response-stream request (Bedrock) whose messages contain this string
 * gets message_start and the first text, then nothing until the client leaves (at most 5 s):
 * no message_delta, no final metrics.
 */
export const HOLD_AFTER_TEXT = 'hold the stream after the first text';
