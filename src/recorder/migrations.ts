import { GROUP_KEYS_DDL } from '../sessions/group-index.js';
import { RESPONSE_CACHE_DDL } from '../cache/cache-table.js';
import { BODY_PART_USE_MIGRATION, BODY_STORAGE_MIGRATION } from './body-parts.js';
import { CLIENT_LABEL_MIGRATION } from './label-migration.js';

/**
 * Schema steps, in order; step i brings the database to user_version i + 1.
 * Never edit a step that has shipped: append a new one.
 */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE exchanges (
    id TEXT PRIMARY KEY,
    connection_id TEXT NOT NULL,
    started_at REAL NOT NULL,
    request_end_at REAL,
    upstream_headers_at REAL,
    first_byte_at REAL,
    ended_at REAL,
    client_address TEXT,
    client_user TEXT,
    user_agent TEXT,
    host TEXT NOT NULL,
    port INTEGER NOT NULL,
    method TEXT NOT NULL,
    path TEXT NOT NULL,
    status INTEGER,
    provider TEXT,
    api TEXT,
    model TEXT,
    stream INTEGER,
    request_headers TEXT NOT NULL,
    request_body BLOB,
    request_body_size INTEGER NOT NULL,
    request_body_truncated INTEGER NOT NULL,
    response_headers TEXT,
    response_body BLOB,
    response_body_size INTEGER,
    response_body_truncated INTEGER,
    response_text TEXT,
    response_thinking TEXT,
    tool_calls TEXT,
    stop_reason TEXT,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cached_input_tokens INTEGER,
    reasoning_tokens INTEGER,
    cache_creation_input_tokens INTEGER,
    outcome TEXT,
    error_code TEXT
  );
  CREATE INDEX exchanges_started_at ON exchanges (started_at);
  CREATE INDEX exchanges_host ON exchanges (host);
  CREATE INDEX exchanges_model ON exchanges (model);

  CREATE TABLE tunnels (
    id TEXT PRIMARY KEY,
    started_at REAL NOT NULL,
    ended_at REAL,
    client_address TEXT,
    client_user TEXT,
    host TEXT NOT NULL,
    port INTEGER NOT NULL,
    bytes_up INTEGER,
    bytes_down INTEGER,
    outcome TEXT
  );
  CREATE INDEX tunnels_started_at ON tunnels (started_at);
  `,
  // WebSocket messages, in order per session. No foreign key: a long session's
  // messages are written in batches before its exchange row (written at close).
  `
  CREATE TABLE ws_messages (
    exchange_id TEXT NOT NULL,
    seq INTEGER NOT NULL,
    direction TEXT NOT NULL,
    at REAL NOT NULL,
    opcode INTEGER NOT NULL,
    size INTEGER NOT NULL,
    compressed INTEGER NOT NULL,
    truncated INTEGER NOT NULL,
    text TEXT,
    data BLOB,
    error TEXT,
    PRIMARY KEY (exchange_id, seq)
  ) WITHOUT ROWID;
  `,
  // 3: what each body column holds (never encoded bytes redaction did not see), and
  // the digest of bodies that could not be stored whole.
  `
  ALTER TABLE exchanges ADD COLUMN request_body_stored TEXT;
  ALTER TABLE exchanges ADD COLUMN request_body_sha256 TEXT;
  ALTER TABLE exchanges ADD COLUMN response_body_stored TEXT;
  ALTER TABLE exchanges ADD COLUMN response_body_sha256 TEXT;
  `,
  // 4: who sent each request (tool), the agent's own ids (JSON), the answer's quota headers (JSON).
  `
  ALTER TABLE exchanges ADD COLUMN tool_name TEXT;
  ALTER TABLE exchanges ADD COLUMN tool_version TEXT;
  ALTER TABLE exchanges ADD COLUMN agent TEXT;
  ALTER TABLE exchanges ADD COLUMN quota TEXT;
  CREATE INDEX exchanges_tool ON exchanges (tool_name);
  `,
  // 5: sessions and threads (grouped as each exchange is written, through the
  // group_keys lookup table; totals kept up to date in the same transaction so
  // listing sessions never scans exchanges), and the cost of each exchange in USD
  // with where the price came from.
  `
  ALTER TABLE exchanges ADD COLUMN session_id TEXT;
  ALTER TABLE exchanges ADD COLUMN thread_id TEXT;
  ALTER TABLE exchanges ADD COLUMN turn INTEGER;
  ALTER TABLE exchanges ADD COLUMN cost_usd REAL;
  ALTER TABLE exchanges ADD COLUMN cost_source TEXT;
  CREATE INDEX exchanges_session ON exchanges (session_id, started_at);

  CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    started_at REAL NOT NULL,
    ended_at REAL NOT NULL,
    tool_name TEXT,
    client_address TEXT,
    client_user TEXT,
    models TEXT NOT NULL,
    threads INTEGER NOT NULL,
    exchanges INTEGER NOT NULL,
    errors INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cached_input_tokens INTEGER NOT NULL,
    cache_creation_input_tokens INTEGER NOT NULL,
    reasoning_tokens INTEGER NOT NULL,
    cost_usd REAL,
    unpriced INTEGER NOT NULL,
    api_equivalent INTEGER NOT NULL,
    quota TEXT
  );
  CREATE INDEX sessions_started_at ON sessions (started_at);

  CREATE TABLE threads (
    id TEXT PRIMARY KEY,
    session_id TEXT NOT NULL,
    parent_thread_id TEXT,
    spawned_by_tool_call_id TEXT,
    agent_id TEXT,
    started_at REAL NOT NULL,
    ended_at REAL NOT NULL,
    models TEXT NOT NULL,
    exchanges INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cached_input_tokens INTEGER NOT NULL,
    cost_usd REAL,
    quota TEXT
  );
  CREATE INDEX threads_session ON threads (session_id, started_at);
  ${GROUP_KEYS_DDL}
  `,
  // 6: compact bodies: request bodies split into content-addressed, compressed parts
  // (agents resend the whole conversation every turn), other bodies compressed; a
  // null layout is the plain bytes every older row holds (body-parts.ts).
  BODY_STORAGE_MIGRATION,
  // 7: what the policy decided about each exchange (JSON: rule ids, actions, detector
  // names and places; never a matched value).
  'ALTER TABLE exchanges ADD COLUMN policy TEXT',
  // 8: the response cache's durable copy (keys are digests; no credential is stored).
  RESPONSE_CACHE_DDL,
  // 9: the `llmtap run --label` of each exchange.
  CLIENT_LABEL_MIGRATION,
  // 10: whether the exchange went over TLS (1: https/wss) or plain HTTP (0), so HAR and
  // curl URLs and `policy test` no longer guess the scheme from the port; null in older rows.
  'ALTER TABLE exchanges ADD COLUMN tls INTEGER',
  // 11: the audio parts of the token counts (Realtime, audio chat completions), priced at
  // audio rates as the row is written; kept so `policy test` reprices them the same way.
  `ALTER TABLE exchanges ADD COLUMN input_audio_tokens INTEGER;
  ALTER TABLE exchanges ADD COLUMN cached_audio_input_tokens INTEGER;
  ALTER TABLE exchanges ADD COLUMN output_audio_tokens INTEGER;`,
  // 12: a session's run label from an index alone. The label column sits after the body
  // blobs, so reading it from the row walks each body's overflow pages: listing 200
  // sessions of 60 turns took ~40-110 ms on the event loop (the web UI's sessions page),
  // ~1-4 ms with this. Partial: unlabelled traffic adds no index entries.
  'CREATE INDEX exchanges_session_label ON exchanges (session_id, client_label) WHERE client_label IS NOT NULL',
  // 13: 1 where the token counts were estimated by llmtap from the text (a Chat Completions or Responses
  // answer that reported no usage; recorder/row-estimate.ts), so readers can say so. Later also 2: the
  // output only (a stream cut after its input was reported; archive/estimated-part.ts), no migration needed.
  'ALTER TABLE exchanges ADD COLUMN usage_estimated INTEGER',
  // 14: what hourly retention needs through indexes, so a pass with little or nothing old
  // reads little: each body part's last use (a table of its own, body-parts.ts; parts
  // stored before it get theirs at the first purge), and WebSocket messages by time (the
  // messages of sessions whose row never came). Before, every pass read every exchange's
  // stored body (~7.5 s per 100,000 exchanges in the writer thread) and every message.
  `${BODY_PART_USE_MIGRATION}
  CREATE INDEX ws_messages_at ON ws_messages (at);`,
  // 15: a WebSocket session that switched models is one row naming its last model: each
  // model's tokens and cost (JSON, model-parts.ts), so `stats --by model` and budgets
  // seeded from the archive can split it. Partial index: those few rows are found
  // without reading every row's last column (past its body's pages).
  `ALTER TABLE exchanges ADD COLUMN model_usage TEXT;
  CREATE INDEX exchanges_model_usage ON exchanges (started_at) WHERE model_usage IS NOT NULL;`,
  // 16: a session's retries (the same request resent in its turn), so `llmtap sessions`
  // counts each turn once. Sessions already recorded get theirs from the exchanges: a
  // retry shares its thread and turn with the attempt before it (one pass, at upgrade).
  `ALTER TABLE sessions ADD COLUMN retries INTEGER NOT NULL DEFAULT 0;
  UPDATE sessions SET retries = r.n FROM (
    SELECT session_id, COUNT(*) - COUNT(DISTINCT thread_id || ' ' || turn) AS n FROM exchanges
    WHERE session_id IS NOT NULL AND thread_id IS NOT NULL AND turn IS NOT NULL GROUP BY session_id
  ) AS r WHERE r.session_id = sessions.id AND r.n > 0;`,
  // 17: the parts of the usage with no column of their own (image and video tokens, whisper-1's
  // seconds, web and file searches, 1-hour cache writes: archive/usage-parts.ts), as JSON, so a row
  // priced again (--prices, `policy test`) costs what it was recorded at. NULL in ordinary rows and
  // older ones: none recorded.
  'ALTER TABLE exchanges ADD COLUMN usage_parts TEXT',
];
