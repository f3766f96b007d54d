import type { ExchangeRow } from '../recorder/row-types.js';
import { ESTIMATED_APIS } from './usage-estimate.js';

export type UsageUnknownRow = Pick<ExchangeRow, 'api' | 'model' | 'status' | 'stream' | 'outcome' | 'input_tokens' | 'output_tokens' | 'cached_input_tokens' | 'usage_estimated'>;

/**
 * Why an answer that was under way has no tokens at all: it was cut (the client left, the
 * upstream broke) after its 2xx but before it reported any usage, and llmtap did not
 * estimate it. Pure, read from the archived row (`show`, the web UI's turns); undefined
 * for every other row (usage known, estimated or awaiting it, no answer begun).
 *
 * An Anthropic Messages stream reports its input in `message_start`, its first event. Cut
 * before it, the prompt's size could be counted from the request, but not its cached share
 * (a Claude Code prompt is mostly cache reads, at a tenth of the price: counting it all as
 * input would overstate the cost several times over), nor whether Anthropic billed anything
 * for an answer that had not started: so it is left without tokens, and says so.
 */
export function usageUnknownReason(row: UsageUnknownRow): string | undefined {
  if (row.input_tokens !== null || row.output_tokens !== null || row.cached_input_tokens !== null) return undefined;
  if (row.usage_estimated !== null || row.status === null || row.status < 200 || row.status > 299) return undefined;
  if (row.outcome !== 'client_aborted' && row.outcome !== 'upstream_error') return undefined;
  const how = row.outcome === 'client_aborted' ? 'the client left' : 'the upstream connection broke';
  const claude = row.api === 'messages' || (row.api === 'bedrock.invoke' && /anthropic\.|claude/i.test(row.model ?? ''));
  if (claude && row.stream === 1) {
    return `the stream was cut (${how}) before message_start, where Anthropic reports the input: not estimated, since neither the prompt's cached share nor whether anything was billed can be told`;
  }
  if (row.api !== null && ESTIMATED_APIS.has(row.api)) return `the answer was cut (${how}) before it reported usage, and llmtap could not estimate it (no prompt it could read)`;
  return `the answer was cut (${how}) before it reported usage; llmtap estimates only OpenAI Chat Completions and Responses answers, and Claude streams past message_start`;
}
