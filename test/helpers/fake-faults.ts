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

/**
 * A request whose body contains this string is answered as usual, but its connection is
 * reset after the answer's first `RESET_AFTER_WRITES` body writes: a network break mid-answer
 * (the 200 and part of the stream went out; no clean end).
 */
export const RESET_MID_STREAM = 'reset the connection part-way';
export const RESET_AFTER_WRITES = 4;

/** Makes `res` stop after `writes` body writes and reset its connection 50 ms later (RESET_MID_STREAM). */
export function resetAfterWrites(res: import('node:http').ServerResponse, writes = RESET_AFTER_WRITES): void {
  let n = 0;
  const write = res.write.bind(res) as (...args: unknown[]) => boolean;
  res.write = ((...args: unknown[]) => {
    if (n >= writes) return true;
    if (++n === writes) setTimeout(() => res.socket?.destroy(), 50);
    return write(...args);
  }) as typeof res.write;
  res.end = (() => res) as typeof res.end;
}
