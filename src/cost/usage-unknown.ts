import type { ExchangeRow } from '../recorder/row-types.js';
import { ESTIMATED_APIS } from './usage-estimate.js';

export type UsageUnknownRow = Pick<ExchangeRow, 'api' | 'model' | 'status' | 'stream' | 'outcome' | 'error_code' | 'input_tokens' | 'output_tokens' | 'cached_input_tokens' | 'usage_estimated'>;

/**
 * Why an answer that was under way has no tokens at all: it was cut after its 2xx, by the
 * client before it reported any usage (and llmtap did not estimate it), by the upstream
 * connection breaking, or by llmtap itself (its shutdown's drain deadline; such answers are
 * kept but not read). Pure, read from the archived row (`show`, the web UI's turns); undefined
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
  if (row.outcome === 'upstream_error') {
    // An answer that ended in an error of the connection is kept as it arrived, but not read (handle-exchange.ts).
    return `the upstream connection broke mid-answer (${row.error_code ?? 'upstream_error'}): what arrived is kept as it came, not read for tokens nor estimated`;
  }
  if (row.outcome === 'proxy_error') {
    // Cut by llmtap itself after the 2xx: a stream still open at the shutdown's drain deadline
    // (handle-exchange.ts records it `shutdown`), or its own error mid-answer; kept, not read, as above.
    const cause = row.error_code === 'shutdown' ? 'llmtap cut the answer at its shutdown\'s drain deadline (shutdown)' : `llmtap ended the answer with its own error (${row.error_code ?? 'proxy_error'})`;
    return `${cause}: what arrived is kept as it came, not read for tokens nor estimated`;
  }
  if (row.outcome !== 'client_aborted') return undefined;
  const how = 'the client left';
  const claude = row.api === 'messages' || (row.api === 'bedrock.invoke' && /anthropic\.|claude/i.test(row.model ?? ''));
  if (claude && row.stream === 1) {
    return `the stream was cut (${how}) before message_start, where Anthropic reports the input: not estimated, since neither the prompt's cached share nor whether anything was billed can be told`;
  }
  if (row.api !== null && ESTIMATED_APIS.has(row.api)) return `the answer was cut (${how}) before it reported usage, and llmtap could not estimate it (no prompt it could read)`;
  return `the answer was cut (${how}) before it reported usage; llmtap estimates only OpenAI Chat Completions and Responses answers, and Claude streams past message_start`;
}
