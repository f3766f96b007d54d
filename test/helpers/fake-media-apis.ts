import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * The fake provider's OpenAI model APIs that are not chat, in their documented wire
 * formats: Moderations (/v1/moderations: one result per input, flagged when the text
 * says "attack").
 */
export const MODERATION_MODEL = 'omni-moderation-2024-09-26';

/** Handles the request when it is one of these endpoints; false otherwise. */
export function mediaRoute(_req: IncomingMessage, res: ServerResponse, pathname: string, _body: Buffer, json: Record<string, unknown>): boolean {
  if (pathname === '/v1/moderations') return moderations(res, json);
  return false;
}

function moderations(res: ServerResponse, body: Record<string, unknown>): true {
  const inputs = Array.isArray(body.input) ? body.input : [body.input];
  const results = inputs.map((input) => {
    const flagged = JSON.stringify(input ?? '').includes('attack');
    const categories = { harassment: false, 'harassment/threatening': flagged, hate: false, violence: flagged, 'self-harm': false, sexual: false };
    const scores = Object.fromEntries(Object.entries(categories).map(([name, on]) => [name, on ? 0.91 : 0.0012]));
    return { flagged, categories, category_scores: scores, category_applied_input_types: Object.fromEntries(Object.keys(categories).map((name) => [name, ['text']])) };
  });
  return sendJson(res, { id: 'modr-fake1', model: MODERATION_MODEL, results });
}

function sendJson(res: ServerResponse, value: unknown): true {
  const payload = JSON.stringify(value);
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(payload), 'x-request-id': 'req_fake_media' });
  res.end(payload);
  return true;
}
