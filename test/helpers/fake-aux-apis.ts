import type { ServerResponse } from 'node:http';

/**
 * The fake provider's APIs beside generation, in their documented wire formats:
 * Anthropic's token counting (POST /v1/messages/count_tokens, and Claude on Vertex AI's
 * …/publishers/anthropic/models/count-tokens:rawPredict): `{"input_tokens": N}`.
 */
export const COUNTED_TOKENS = 2095;

export function auxRoute(res: ServerResponse, pathname: string): boolean {
  if (pathname === '/v1/messages/count_tokens' || /\/publishers\/anthropic\/models\/count-tokens:rawPredict$/.test(pathname)) {
    return json(res, { input_tokens: COUNTED_TOKENS });
  }
  return false;
}

function json(res: ServerResponse, body: unknown): true {
  const payload = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload) });
  res.end(payload);
  return true;
}
