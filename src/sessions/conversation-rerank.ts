import type { JsonObject } from '../providers/json.js';
import type { Block, Conversation } from './conversation.js';

/**
 * A rerank request read for `show` and the session view: the query is what the user
 * asked, the documents are shown by their count (their text is in the stored body, and
 * is what search finds), with `top_n` when the request limits the results.
 */
export function readRerank(request: JsonObject): Conversation | undefined {
  if (typeof request.query !== 'string') return undefined;
  const blocks: Block[] = [{ type: 'text', text: request.query }];
  const count = Array.isArray(request.documents) ? request.documents.length : 0;
  const top = typeof request.top_n === 'number' ? `, top ${request.top_n}` : '';
  blocks.push({ type: 'other', kind: `${count} document${count === 1 ? '' : 's'}${top}` });
  return { tools: [], messages: [{ role: 'user', blocks }] };
}
