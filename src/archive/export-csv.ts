import { outputTokens, promptTokens } from '../providers/usage-totals.js';
import type { ExchangeRow } from '../recorder/row-types.js';
import type { PolicyRecord } from '../policy/types.js';
import { csvLine } from './csv.js';
import { modelLabel } from './model-parts.js';
import { usdFigure } from './stats-json.js';
import { estimatedPart } from './estimated-part.js';
import { elapsed, isoTime, jsonColumn, selectSql, type ArchiveDb, type ExportOptions } from './export.js';

/**
 * The columns of `export --format csv`: one row per exchange for a spreadsheet (chargeback,
 * usage by person or tool), without headers or bodies. `prompt_tokens` is every prompt token
 * whatever the provider's way of counting (as `stats` counts them); the token columns after
 * it are as the provider reported them. `model` lists every model of a WebSocket session
 * that switched models (`gpt-5-codex+gpt-5-mini`, model-parts.ts).
 */
export const EXCHANGE_CSV_COLUMNS = [
  'id', 'started_at', 'user', 'label', 'client_address', 'tool', 'tool_version', 'session_id', 'thread_id', 'turn',
  'provider', 'api', 'host', 'method', 'path', 'model', 'stream', 'status', 'outcome', 'error_code',
  'prompt_tokens', 'input_tokens', 'cached_input_tokens', 'cache_creation_input_tokens', 'output_tokens', 'reasoning_tokens', 'usage_estimated',
  'cost_usd', 'cost_source', 'ttfb_ms', 'duration_ms', 'stop_reason', 'policy',
  // Last, so a sheet that reads columns by position keeps working: `all` or `output` (only output_tokens estimated).
  'usage_estimated_part',
] as const;

type CsvColumn = (typeof EXCHANGE_CSV_COLUMNS)[number];

/** What is read for each row: no body, no header (an archive of any size reads fast and in constant memory). */
const READ = `id, started_at, first_byte_at, ended_at, client_user, client_label, client_address, tool_name, tool_version, session_id, thread_id, turn,
  provider, api, host, method, path, model, stream, status, outcome, error_code, input_tokens, cached_input_tokens, cache_creation_input_tokens,
  output_tokens, reasoning_tokens, usage_estimated, cost_usd, cost_source, stop_reason, policy, model_usage`;

/** Exchanges as CSV lines, oldest first: the header line, then one line per exchange, read one row at a time. */
export function* exchangeCsvLines(archive: ArchiveDb, options: ExportOptions = {}): Generator<string> {
  yield csvLine(EXCHANGE_CSV_COLUMNS);
  const { sql, params } = selectSql('exchanges', options, READ);
  for (const row of archive.db.prepare(sql).iterate(params) as IterableIterator<ExchangeRow>) {
    const record = exchangeCsvRecord(row);
    yield csvLine(EXCHANGE_CSV_COLUMNS.map((c) => record[c]));
  }
}

export function exchangeCsvRecord(row: ExchangeRow): Record<CsvColumn, unknown> {
  return {
    id: row.id, started_at: isoTime(row.started_at), user: row.client_user, label: row.client_label ?? null, client_address: row.client_address,
    tool: row.tool_name, tool_version: row.tool_version, session_id: row.session_id ?? null, thread_id: row.thread_id ?? null, turn: row.turn ?? null,
    provider: row.provider, api: row.api, host: row.host, method: row.method, path: row.path, model: modelLabel(row),
    stream: row.stream === null ? null : row.stream === 1, status: row.status, outcome: row.outcome, error_code: row.error_code,
    prompt_tokens: row.input_tokens === null && row.cached_input_tokens === null ? null : promptTokens(row),
    input_tokens: row.input_tokens, cached_input_tokens: row.cached_input_tokens, cache_creation_input_tokens: row.cache_creation_input_tokens ?? null,
    output_tokens: outputTokens(row), reasoning_tokens: row.reasoning_tokens ?? null, usage_estimated: estimatedPart(row.usage_estimated) !== null,
    cost_usd: usdFigure(row.cost_usd), cost_source: row.cost_source ?? null,
    ttfb_ms: elapsed(row.started_at, row.first_byte_at), duration_ms: elapsed(row.started_at, row.ended_at),
    stop_reason: row.stop_reason, policy: policyText(row.policy ?? null), usage_estimated_part: estimatedPart(row.usage_estimated),
  };
}

/** The policy's decisions as `rule:action` words (`no-gpt5:deny`), `blocked` first when a rule refused the request. */
function policyText(column: string | null): string | null {
  const record = jsonColumn<PolicyRecord>(column);
  if (!record) return null;
  const words = record.decisions.map((d) => `${d.rule}:${d.action}${d.enforced ? '' : '(monitor)'}`);
  return (record.blocked ? [`blocked:${record.blocked}`, ...words] : words).join(' ') || null;
}
