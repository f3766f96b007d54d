/**
 * The archive's row shapes, keyed by column name so a row binds straight to its INSERT,
 * and the column order of those INSERTs (a unit test checks it against the live table).
 * db.ts re-exports them: importers name db.js as before.
 */

/** One row of `exchanges`, keyed by column name so it binds straight to the INSERT. */
export interface ExchangeRow {
  id: string;
  connection_id: string;
  started_at: number;
  request_end_at: number | null;
  upstream_headers_at: number | null;
  first_byte_at: number | null;
  ended_at: number | null;
  client_address: string;
  client_user: string | null;
  user_agent: string | null;
  host: string;
  port: number;
  /** 1 over TLS (https, wss), 0 plain HTTP; null in rows archived before schema 10 (row-scheme.ts guesses those). */
  tls: 0 | 1 | null;
  method: string;
  path: string;
  status: number | null;
  provider: string | null;
  api: string | null;
  model: string | null;
  stream: 0 | 1 | null;
  request_headers: string;
  request_body: Buffer | null;
  request_body_size: number;
  request_body_truncated: 0 | 1;
  /** What the body column holds: as_sent, decoded, decoded_prefix or digest (stored-body.ts); null in rows from before schema 3. */
  request_body_stored: string | null;
  /** SHA-256 (hex) of the captured bytes when the body could not be stored whole (decoded_prefix, digest). */
  request_body_sha256: string | null;
  response_headers: string | null;
  response_body: Buffer | null;
  response_body_size: number | null;
  response_body_truncated: 0 | 1 | null;
  response_body_stored: string | null;
  response_body_sha256: string | null;
  response_text: string | null;
  response_thinking: string | null;
  tool_calls: string | null;
  stop_reason: string | null;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_input_tokens: number | null;
  reasoning_tokens: number | null;
  cache_creation_input_tokens: number | null;
  /** Audio parts of input_tokens, cached_input_tokens and output_tokens (schema 11); null when none were reported. */
  input_audio_tokens: number | null;
  cached_audio_input_tokens: number | null;
  output_audio_tokens: number | null;
  /**
   * The usage's parts with no column of their own (schema 17, archive/usage-parts.ts): JSON of
   * image and video tokens, audio seconds, web and file searches, 1-hour cache writes; null
   * when none was above 0, and in older rows.
   */
  usage_parts: string | null;
  /** Per model, for a WebSocket session answered by more than one (schema 13, model-parts.ts): JSON; null otherwise and in older rows. */
  model_usage: string | null;
  outcome: string | null;
  error_code: string | null;
  tool_name: string | null;
  tool_version: string | null;
  /** AgentMetadata as JSON, redacted. */
  agent: string | null;
  /** Quota as JSON. */
  quota: string | null;
  /** Grouping (schema 5): null in older rows and for records no grouping reached. */
  session_id: string | null;
  thread_id: string | null;
  turn: number | null;
  /** How the body columns are stored (schema 6): null = the plain bytes; br1, parts1 (body-parts.ts). */
  request_body_layout: string | null;
  response_body_layout: string | null;
  /** USD; null when the model or usage is unknown (never guessed). */
  cost_usd: number | null;
  /** api, api_equivalent (subscription traffic priced at API rates) or override (--prices). */
  cost_source: string | null;
  /** Policy decisions (PolicyRecord) as JSON; never a redacted value, only detector names and places. */
  policy: string | null;
  /** `llmtap run --label` of the run that sent it (schema: CLIENT_LABEL_MIGRATION). */
  client_label: string | null;
  /**
   * 1: the token counts (and the cost priced from them) were estimated by llmtap, the answer
   * reported none (schema 13). 2: only the output was, the input being as the provider
   * reported it (a stream cut after Anthropic's message_start; archive/estimated-part.ts).
   * 0: committed, awaiting the writer's estimate (a moment later it is 1 or 2, or NULL when
   * none comes; a proxy killed in between leaves 0): readers treat it as not estimated,
   * `tail` waits a moment for it.
   */
  usage_estimated: 0 | 1 | 2 | null;
}

export interface TunnelRow {
  id: string;
  started_at: number;
  ended_at: number;
  client_address: string;
  client_user: string | null;
  host: string;
  port: number;
  bytes_up: number;
  bytes_down: number;
  outcome: string;
}

/** One WebSocket message of a session recorded as an exchange (status 101). */
export interface WsMessageRow {
  exchange_id: string;
  seq: number;
  direction: 'client' | 'server';
  at: number;
  opcode: number;
  size: number;
  compressed: 0 | 1;
  truncated: 0 | 1;
  /** Text messages, redacted. */
  text: string | null;
  /** Other payloads (binary, close, ping, pong), redacted byte-wise. */
  data: Buffer | null;
  error: string | null;
}

/** Column order for the INSERTs; a unit test checks it against the live table. */
export const EXCHANGE_COLUMNS: readonly (keyof ExchangeRow)[] = [
  'id', 'connection_id', 'started_at', 'request_end_at', 'upstream_headers_at', 'first_byte_at', 'ended_at',
  'client_address', 'client_user', 'user_agent', 'host', 'port', 'tls', 'method', 'path', 'status', 'provider', 'api',
  'model', 'stream', 'request_headers', 'request_body', 'request_body_size', 'request_body_truncated',
  'response_headers', 'response_body', 'response_body_size', 'response_body_truncated', 'response_text',
  'response_thinking', 'tool_calls', 'stop_reason', 'input_tokens', 'output_tokens', 'cached_input_tokens',
  'reasoning_tokens', 'cache_creation_input_tokens', 'outcome', 'error_code',
  'request_body_stored', 'request_body_sha256', 'response_body_stored', 'response_body_sha256',
  'tool_name', 'tool_version', 'agent', 'quota',
  'session_id', 'thread_id', 'turn', 'cost_usd', 'cost_source', 'request_body_layout', 'response_body_layout',
  'policy', 'client_label', 'input_audio_tokens', 'cached_audio_input_tokens', 'output_audio_tokens', 'usage_estimated', 'model_usage',
  'usage_parts',
];

export const WS_MESSAGE_COLUMNS: readonly (keyof WsMessageRow)[] = [
  'exchange_id', 'seq', 'direction', 'at', 'opcode', 'size', 'compressed', 'truncated', 'text', 'data', 'error',
];

export const TUNNEL_COLUMNS: readonly (keyof TunnelRow)[] = [
  'id', 'started_at', 'ended_at', 'client_address', 'client_user', 'host', 'port', 'bytes_up', 'bytes_down', 'outcome',
];

/** The token-count columns, in the order export and HAR write them as `usage`. */
export const USAGE_COLUMNS = [
  'input_tokens', 'output_tokens', 'cached_input_tokens', 'reasoning_tokens', 'cache_creation_input_tokens',
  'input_audio_tokens', 'cached_audio_input_tokens', 'output_audio_tokens',
] as const satisfies readonly (keyof ExchangeRow)[];

/** An exchange's token counts as exported (null: not reported, or a row from before the column). */
export type UsageColumns = Pick<ExchangeRow, (typeof USAGE_COLUMNS)[number]>;
