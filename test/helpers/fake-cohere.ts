import type { ServerResponse } from 'node:http';

/**
 * The fake provider's Cohere Chat API v2 (POST /v2/chat) in its documented wire format:
 * a ChatResponse as JSON, or with `stream: true` named SSE events (message-start,
 * content-*, tool-plan-delta, tool-call-*, message-end). Offered tools, it plans and
 * calls get_weather; a last user message holding COHERE_ERROR_PROMPT ends the stream
 * with finish_reason ERROR after some text.
 */
export const COHERE_TEXT = 'Cohere says hi — ça va, 你好 🌍';
export const COHERE_ERROR_PROMPT = 'fail this chat part-way';
/** What Cohere bills (billed_units) is less than what the model read (tokens): the prompt template is free. */
export const COHERE_USAGE = { billed_units: { input_tokens: 12, output_tokens: 40 }, tokens: { input_tokens: 208, output_tokens: 42 } };

export function cohereRoute(res: ServerResponse, pathname: string, body: Record<string, unknown>): boolean {
  if (pathname !== '/v2/chat') return false;
  const wantsTool = Array.isArray(body.tools) && body.tools.length > 0;
  const failing = JSON.stringify(body.messages ?? []).includes(COHERE_ERROR_PROMPT);
  const call = { id: 'get_weather_fake1', type: 'function', function: { name: 'get_weather', arguments: '{"city":"Paris"}' } };
  const plan = 'I will look up the weather in Paris.';
  if (body.stream !== true) {
    const message = { role: 'assistant', content: [{ type: 'text', text: COHERE_TEXT }], ...(wantsTool ? { tool_plan: plan, tool_calls: [call] } : {}) };
    const payload = JSON.stringify({ id: 'c0here-fake-1', finish_reason: wantsTool ? 'TOOL_CALL' : 'COMPLETE', message, usage: COHERE_USAGE });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'x-trial-endpoint-call-remaining': '999' });
    res.end(payload);
    return true;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const send = (type: string, data: Record<string, unknown>): void => void res.write(`event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`);
  send('message-start', { id: 'c0here-fake-2', delta: { message: { role: 'assistant', content: [], tool_plan: '', tool_calls: [], citations: [] } } });
  if (wantsTool && !failing) {
    send('tool-plan-delta', { delta: { message: { tool_plan: plan } } });
    send('tool-call-start', { index: 0, delta: { message: { tool_calls: { ...call, function: { name: 'get_weather', arguments: '' } } } } });
    for (const piece of ['{"city":', '"Paris"}']) send('tool-call-delta', { index: 0, delta: { message: { tool_calls: { function: { arguments: piece } } } } });
    send('tool-call-end', { index: 0 });
  }
  send('content-start', { index: 0, delta: { message: { content: { type: 'text', text: '' } } } });
  const words = failing ? [COHERE_TEXT.slice(0, 6)] : [COHERE_TEXT.slice(0, 6), COHERE_TEXT.slice(6)];
  for (const text of words) send('content-delta', { index: 0, delta: { message: { content: { text } } } });
  if (failing) {
    send('message-end', { delta: { finish_reason: 'ERROR', error: 'internal server error, this has been reported to our developers' } });
    res.end();
    return true;
  }
  send('content-end', { index: 0 });
  send('message-end', { delta: { finish_reason: wantsTool ? 'TOOL_CALL' : 'COMPLETE', usage: COHERE_USAGE } });
  res.end();
  return true;
}
