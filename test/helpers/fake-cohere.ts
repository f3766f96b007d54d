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
  if (pathname === '/v1/chat') return cohereV1Chat(res, body);
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

/**
 * Cohere's legacy Chat API (POST /v1/chat): `{text, generation_id, finish_reason, meta}` as
 * JSON, or with `stream: true` one JSON event a line (application/stream+json): stream-start,
 * text-generation in three pieces (four writes before the end, as RESET_MID_STREAM cuts), and
 * stream-end with the whole answer and its `meta`. Offered tools, it plans (tool-calls-chunk)
 * and calls get_weather (tool-calls-generation); a `message` holding COHERE_ERROR_PROMPT ends
 * with finish_reason ERROR after some text.
 */
function cohereV1Chat(res: ServerResponse, body: Record<string, unknown>): boolean {
  const wantsTool = Array.isArray(body.tools) && body.tools.length > 0 && body.tool_results === undefined;
  const failing = body.message === COHERE_ERROR_PROMPT;
  const plan = 'I will look up the weather in Paris.';
  const calls = [{ name: 'get_weather', parameters: { city: 'Paris' } }];
  const meta = { api_version: { version: '1' }, billed_units: COHERE_USAGE.billed_units, tokens: COHERE_USAGE.tokens };
  const answer = { response_id: 'r-fake-v1', text: wantsTool ? plan : COHERE_TEXT, generation_id: 'g-fake-v1', chat_history: [], finish_reason: 'COMPLETE', meta, ...(wantsTool ? { tool_calls: calls } : {}) };
  if (body.stream !== true) {
    const payload = JSON.stringify(answer);
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
    return true;
  }
  res.writeHead(200, { 'content-type': 'application/stream+json' });
  const send = (event: Record<string, unknown>): void => void res.write(`${JSON.stringify({ is_finished: event.event_type === 'stream-end', ...event })}\n`);
  send({ event_type: 'stream-start', generation_id: 'g-fake-v1' });
  if (wantsTool) {
    send({ event_type: 'tool-calls-chunk', text: plan });
    send({ event_type: 'tool-calls-chunk', tool_call_delta: { index: 0, name: 'get_weather' } });
    send({ event_type: 'tool-calls-chunk', tool_call_delta: { index: 0, parameters: '{"city":"Paris"}' } });
    send({ event_type: 'tool-calls-generation', text: plan, tool_calls: calls });
  } else {
    const pieces = failing ? [COHERE_TEXT.slice(0, 6)] : [COHERE_TEXT.slice(0, 6), COHERE_TEXT.slice(6, 12), COHERE_TEXT.slice(12)];
    for (const text of pieces) send({ event_type: 'text-generation', text });
  }
  const finish = failing ? 'ERROR' : 'COMPLETE';
  send({ event_type: 'stream-end', finish_reason: finish, response: { ...answer, finish_reason: finish, ...(failing ? { text: COHERE_TEXT.slice(0, 6) } : {}) } });
  res.end();
  return true;
}
