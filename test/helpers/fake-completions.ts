import type { ServerResponse } from 'node:http';

/** What the fake server completes every prompt with (multi-byte characters on purpose). */
export const COMPLETION_TEXT = '\n    return a + b  # sümmé ✓\n';

/**
 * OpenAI's legacy text Completions API as documented: POST /v1/completions, and the old
 * /v1/engines/{engine}/completions that GitHub Copilot's inline suggestions use (its
 * engine the model). A JSON text_completion with usage, or with `stream: true` SSE
 * text_completion chunks then `data: [DONE]`, usage only in a last chunk when
 * stream_options.include_usage asks for it.
 */
export async function completionsRoute(res: ServerResponse, pathname: string, body: Record<string, unknown>): Promise<boolean> {
  const engine = /^\/v1\/engines\/([^/]+)\/completions$/.exec(pathname)?.[1];
  if (pathname !== '/v1/completions' && engine === undefined) return false;
  const model = typeof body.model === 'string' ? body.model : engine ?? 'gpt-3.5-turbo-instruct';
  const base = { id: 'cmpl-fake1', object: 'text_completion', created: 1_700_000_000, model };
  const usage = { prompt_tokens: 6, completion_tokens: 9, total_tokens: 15 };
  if (body.stream !== true) {
    const payload = JSON.stringify({ ...base, choices: [{ text: COMPLETION_TEXT, index: 0, logprobs: null, finish_reason: 'stop' }], usage });
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
    res.end(payload);
    return true;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache' });
  const pieces = COMPLETION_TEXT.split(/(?<= )/);
  pieces.forEach((text, i) => res.write(`data: ${JSON.stringify({ ...base, choices: [{ text, index: 0, logprobs: null, finish_reason: i === pieces.length - 1 ? 'stop' : null }] })}\n\n`));
  if ((body.stream_options as { include_usage?: boolean } | undefined)?.include_usage) res.write(`data: ${JSON.stringify({ ...base, choices: [], usage })}\n\n`);
  res.end('data: [DONE]\n\n');
  return true;
}
