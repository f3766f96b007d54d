import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The fake provider's OpenAI-family endpoints beyond Chat Completions, in their
 * documented wire formats: Responses (JSON and `response.*` SSE, also under Codex's
 * chatgpt.com/backend-api/codex/), embeddings, a non-LLM chatgpt.com path, and
 * Ollama's native /api/chat and /api/generate (NDJSON streams by default).
 */
export const RESPONSES_TEXT = 'Responses from the fake — héllo, 你好 🌍';
export const OLLAMA_TEXT = 'Ollama says hi — ça va 🦙';
/** A Responses input containing this streams part of an answer, then `response.failed` (a server error). */
export const RESPONSES_FAIL_PROMPT = 'fail this response part-way';
/** A Responses input containing this streams part of an answer, then a stream-level `error` event. */
export const RESPONSES_ERROR_PROMPT = 'error this response part-way';

/** Handles the request when it is one of these endpoints; false otherwise. */
export async function openaiFamilyRoute(req: IncomingMessage, res: ServerResponse, pathname: string, body: Record<string, unknown>): Promise<boolean> {
  if (pathname === '/v1/responses' || pathname === '/openai/v1/responses' || pathname === '/backend-api/codex/responses') {
    await responses(res, body);
    return true;
  }
  if (pathname === '/v1/embeddings' || /^\/openai\/deployments\/[^/]+\/embeddings$/.test(pathname)) {
    const vector = [0.0023064255, -0.009327292, 0.015797347];
    // The openai SDK asks for base64 (little-endian float32s) and decodes it itself.
    const embedding = body.encoding_format === 'base64' ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector;
    json(res, { object: 'list', data: [{ object: 'embedding', index: 0, embedding }], model: typeof body.model === 'string' ? body.model : 'text-embedding-3-small', usage: { prompt_tokens: 5, total_tokens: 5 } });
    return true;
  }
  if (pathname.startsWith('/backend-api/')) {
    // ChatGPT's other endpoints (accounts, conversations…): not LLM API traffic for llmtap.
    json(res, { accounts: { default: { account: { plan_type: 'plus' } } }, method: req.method });
    return true;
  }
  if (pathname === '/api/embed') {
    // Ollama's native embeddings: one vector per input, the prompt's tokens as prompt_eval_count.
    const inputs = Array.isArray(body.input) ? body.input : [body.input];
    json(res, { model: body.model, embeddings: inputs.map(() => [0.0123, -0.0456]), total_duration: 14143917, load_duration: 1019500, prompt_eval_count: 8 });
    return true;
  }
  if (pathname === '/api/chat' || pathname === '/api/generate') {
    await ollama(res, body, pathname === '/api/chat');
    return true;
  }
  return false;
}

function json(res: ServerResponse, value: unknown): void {
  const payload = JSON.stringify(value);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'x-request-id': 'req_fake_family' });
  res.end(payload);
}

const USAGE = { input_tokens: 37, input_tokens_details: { cached_tokens: 12 }, output_tokens: 21, output_tokens_details: { reasoning_tokens: 8 }, total_tokens: 58 };

async function responses(res: ServerResponse, body: Record<string, unknown>): Promise<void> {
  const model = typeof body.model === 'string' ? body.model : 'gpt-5';
  const wantsTool = Array.isArray(body.tools) && body.tools.length > 0;
  const base = { id: 'resp_fake1', object: 'response', created_at: 1_756_000_000, model, error: null, incomplete_details: null, instructions: null, parallel_tool_calls: true, previous_response_id: null, store: false, tool_choice: 'auto', tools: [], text: { format: { type: 'text' } }, reasoning: { effort: 'low', summary: 'auto' } };
  const reasoning = { id: 'rs_fake1', type: 'reasoning', summary: [{ type: 'summary_text', text: 'Greet back.' }] };
  const message = { id: 'msg_fake1', type: 'message', status: 'completed', role: 'assistant', content: [{ type: 'output_text', text: RESPONSES_TEXT, annotations: [], logprobs: [] }] };
  const call = { id: 'fc_fake1', type: 'function_call', status: 'completed', call_id: 'call_fake1', name: 'get_weather', arguments: '{"city":"Paris"}' };
  // Offered OpenAI's built-in web_search and file_search tools, the answer ran two web searches and one file search.
  const builtIn = JSON.stringify(body.tools ?? []).includes('"file_search"') ? searchCalls() : [];
  const output = [reasoning, ...builtIn, message, ...(wantsTool && builtIn.length === 0 ? [call] : [])];
  const at = builtIn.length;
  if (!body.stream) {
    json(res, { ...base, status: 'completed', output, usage: USAGE });
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', 'x-request-id': 'req_fake_family' });
  let seq = 0;
  const send = (type: string, data: Record<string, unknown>): void => {
    res.write(`event: ${type}\ndata: ${JSON.stringify({ type, sequence_number: seq++, ...data })}\n\n`);
  };
  send('response.created', { response: { ...base, status: 'in_progress', output: [], usage: null } });
  send('response.in_progress', { response: { ...base, status: 'in_progress', output: [], usage: null } });
  send('response.output_item.added', { output_index: 0, item: { ...reasoning, summary: [] } });
  send('response.reasoning_summary_part.added', { item_id: 'rs_fake1', output_index: 0, summary_index: 0, part: { type: 'summary_text', text: '' } });
  send('response.reasoning_summary_text.delta', { item_id: 'rs_fake1', output_index: 0, summary_index: 0, delta: 'Greet back.' });
  send('response.reasoning_summary_text.done', { item_id: 'rs_fake1', output_index: 0, summary_index: 0, text: 'Greet back.' });
  send('response.reasoning_summary_part.done', { item_id: 'rs_fake1', output_index: 0, summary_index: 0, part: { type: 'summary_text', text: 'Greet back.' } });
  send('response.output_item.done', { output_index: 0, item: reasoning });
  builtIn.forEach((item, i) => {
    send('response.output_item.added', { output_index: 1 + i, item: { ...item, status: 'in_progress' } });
    send('response.output_item.done', { output_index: 1 + i, item });
  });
  send('response.output_item.added', { output_index: 1 + at, item: { ...message, status: 'in_progress', content: [] } });
  send('response.content_part.added', { item_id: 'msg_fake1', output_index: 1 + at, content_index: 0, part: { type: 'output_text', text: '', annotations: [], logprobs: [] } });
  if (JSON.stringify(body.input ?? '').includes(RESPONSES_FAIL_PROMPT)) {
    send('response.output_text.delta', { item_id: 'msg_fake1', output_index: 1 + at, content_index: 0, delta: 'Respon', logprobs: [] });
    send('response.failed', { response: { ...base, status: 'failed', error: { code: 'server_error', message: 'The server had an error while processing your request.' }, output: [], usage: null } });
    res.end();
    return;
  }
  if (JSON.stringify(body.input ?? '').includes(RESPONSES_ERROR_PROMPT)) {
    send('response.output_text.delta', { item_id: 'msg_fake1', output_index: 1 + at, content_index: 0, delta: 'Respon', logprobs: [] });
    send('error', { code: 'server_error', message: 'The server had an error while processing your request.', param: null });
    res.end();
    return;
  }
  for (const delta of RESPONSES_TEXT.split(/(?<= )/)) send('response.output_text.delta', { item_id: 'msg_fake1', output_index: 1 + at, content_index: 0, delta, logprobs: [] });
  send('response.output_text.done', { item_id: 'msg_fake1', output_index: 1 + at, content_index: 0, text: RESPONSES_TEXT, logprobs: [] });
  send('response.content_part.done', { item_id: 'msg_fake1', output_index: 1 + at, content_index: 0, part: message.content[0] });
  send('response.output_item.done', { output_index: 1 + at, item: message });
  if (wantsTool && at === 0) {
    send('response.output_item.added', { output_index: 2, item: { ...call, status: 'in_progress', arguments: '' } });
    for (const delta of ['{"ci', 'ty":"Pa', 'ris"}']) send('response.function_call_arguments.delta', { item_id: 'fc_fake1', output_index: 2, delta });
    send('response.function_call_arguments.done', { item_id: 'fc_fake1', output_index: 2, name: 'get_weather', arguments: call.arguments });
    send('response.output_item.done', { output_index: 2, item: call });
  }
  send('response.completed', { response: { ...base, status: 'completed', output, usage: USAGE } });
  res.end();
}

/** Output items of OpenAI's built-in tools: two web searches and one file search (billed per call). */
function searchCalls(): Record<string, unknown>[] {
  return [
    { id: 'ws_fake1', type: 'web_search_call', status: 'completed', action: { type: 'search', query: 'llmtap news' } },
    { id: 'ws_fake2', type: 'web_search_call', status: 'completed', action: { type: 'search', query: 'llmtap release' } },
    { id: 'fs_fake1', type: 'file_search_call', status: 'completed', queries: ['llmtap'], results: null },
  ];
}

async function ollama(res: ServerResponse, body: Record<string, unknown>, chat: boolean): Promise<void> {
  const model = typeof body.model === 'string' ? body.model : 'llama3.2';
  const created_at = '2025-08-27T12:00:00.000000Z';
  const piece = (text: string, thinking?: string): Record<string, unknown> => (chat
    ? { model, created_at, message: { role: 'assistant', content: text, ...(thinking ? { thinking } : {}) }, done: false }
    : { model, created_at, response: text, ...(thinking ? { thinking } : {}), done: false });
  const final = { ...piece(''), done: true, done_reason: 'stop', total_duration: 1_200_000_000, load_duration: 1_000_000, prompt_eval_count: 26, prompt_eval_duration: 100_000_000, eval_count: 9, eval_duration: 900_000_000 };
  if (body.stream === false) {
    const whole = { ...final, ...(chat ? { message: { role: 'assistant', content: OLLAMA_TEXT, thinking: 'Short answer.' } } : { response: OLLAMA_TEXT, thinking: 'Short answer.', context: [1, 2, 3] }) };
    json(res, whole);
    return;
  }
  res.writeHead(200, { 'content-type': 'application/x-ndjson' });
  res.write(`${JSON.stringify(piece('', 'Short answer.'))}\n`);
  for (const text of OLLAMA_TEXT.split(/(?<= )/)) res.write(`${JSON.stringify(piece(text))}\n`);
  res.end(`${JSON.stringify(final)}\n`);
}
