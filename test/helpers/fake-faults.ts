/**
 * Triggers the fake provider answers with a provider's own failure instead of an answer.
 * A streamed request whose messages or contents contain this string is answered in part,
 * then ended by the provider's mid-stream error: Anthropic's `error` event, Gemini's
 * `{error: …}` chunk, Bedrock's exception frame.
 */
export const FAIL_MID_STREAM = 'fail this stream part-way';
