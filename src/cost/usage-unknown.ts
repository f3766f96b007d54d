import type { ExchangeRow } from '../recorder/row-types.js';
import { ESTIMATED_APIS } from './usage-estimate.js';

export type UsageUnknownRow = Pick<ExchangeRow, 'api' | 'model' | 'status' | 'stream' | 'outcome' | 'error_code' | 'input_tokens' | 'output_tokens' | 'cached_input_tokens' | 'usage_estimated'>;

/**
 * Why an answer that was under way has no tokens at all: it was cut after its 2xx before it
 * reported any usage, and llmtap did not estimate it. Cut by the client, by the upstream
 * connection breaking or by llmtap's shutdown, the answer was read (and estimated where
 * llmtap can); cut by llmtap's own error, it is kept but not read. Pure, read from the
 * archived row (`show`, the web UI's turns); undefined for every other row (usage known,
 * estimated or awaiting it, no answer begun).
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
  if (row.outcome === 'proxy_error' && row.error_code !== 'shutdown') {
    // Cut by llmtap's own error after the 2xx: kept as it came, not read (handle-exchange.ts).
    return `llmtap ended the answer with its own error (${row.error_code ?? 'proxy_error'}): what arrived is kept as it came, not read for tokens nor estimated`;
  }
  const how = cutBy(row);
  if (how === undefined) return undefined;
  const claude = row.api === 'messages' || (row.api === 'bedrock.invoke' && /anthropic\.|claude/i.test(row.model ?? ''));
  if (claude && row.stream === 1) {
    return `the stream was cut (${how}) before message_start, where Anthropic reports the input: not estimated, since neither the prompt's cached share nor whether anything was billed can be told`;
  }
  if (row.api !== null && ESTIMATED_APIS.has(row.api)) return `the answer was cut (${how}) before it reported usage, and llmtap could not estimate it (no prompt it could read)`;
  return `the answer was cut (${how}) before it reported usage; llmtap estimates only OpenAI Chat Completions, Responses and text Completions answers, Cohere Chat v2 and v1 streams, and Claude streams past message_start`;
}

/** Who cut an answer that was under way (read like any cut answer: handle-exchange.ts); undefined when it was not cut. */
function cutBy(row: UsageUnknownRow): string | undefined {
  if (row.outcome === 'client_aborted') return 'the client left';
  if (row.outcome === 'upstream_error') return `the upstream connection broke: ${row.error_code ?? 'upstream_error'}`;
  // Still open at the shutdown's drain deadline (handle-exchange.ts records it `shutdown`).
  if (row.outcome === 'proxy_error' && row.error_code === 'shutdown') return 'llmtap cut it at its shutdown\'s drain deadline';
  return undefined;
}
