import { headerValue, type Exchange, type RawHeaders, type TunnelRecord, type WsMessageRecord } from '../exchange.js';
import { builtInRedactor, type Redactor } from '../redact/redactor.js';
import type { ExchangeRow, TunnelRow, WsMessageRow } from './db.js';
import { storedBody } from './stored-body.js';
import { ESTIMATED_COLUMN } from '../archive/estimated-part.js';
import { usagePartsColumn } from '../archive/usage-parts.js';

/** Maps an exchange to its archive row: bodies decoded, every text field through the redactor. */
export function exchangeToRow(ex: Exchange, redactor: Redactor = builtInRedactor): ExchangeRow {
  const { request, response, timings } = ex;
  const redact = redactor.text;
  const requestBody = storedBody(request.body, request.headers, redactor);
  const responseBody = response ? storedBody(response.body, response.headers, redactor) : undefined;
  const reassembled = response?.reassembled;
  const model = request.model ?? reassembled?.model;
  const usage = ex.usage ?? reassembled?.usage;
  const userAgent = headerValue(request.headers, 'user-agent') ?? ex.client.userAgent;
  return {
    id: ex.id,
    connection_id: ex.connectionId,
    started_at: timings.start,
    request_end_at: timings.requestEnd ?? null,
    upstream_headers_at: timings.upstreamHeaders ?? null,
    first_byte_at: timings.firstByte ?? null,
    ended_at: timings.end ?? null,
    client_address: ex.client.address,
    client_user: ex.client.user === undefined ? null : redact(ex.client.user),
    client_label: ex.client.label === undefined ? null : redact(ex.client.label),
    user_agent: userAgent === undefined ? null : redact(userAgent),
    host: redact(ex.target.host),
    port: ex.target.port,
    tls: ex.target.tls ? 1 : 0,
    method: request.method,
    path: redactor.path(request.path),
    status: response?.status ?? null,
    provider: ex.provider ?? null,
    api: ex.api ?? null,
    // What the client asked for is what people search by; the served name is the fallback.
    model: model === undefined ? null : redact(model),
    stream: request.stream === undefined ? null : request.stream ? 1 : 0,
    request_headers: headersJson(request.headers, redactor),
    request_body: requestBody.bytes,
    request_body_size: request.body.size,
    request_body_truncated: requestBody.truncated ? 1 : 0,
    request_body_stored: requestBody.stored,
    request_body_sha256: requestBody.sha256,
    response_headers: response ? headersJson(response.headers, redactor) : null,
    response_body: responseBody?.bytes ?? null,
    response_body_size: response?.body.size ?? null,
    response_body_truncated: responseBody ? (responseBody.truncated ? 1 : 0) : null,
    response_body_stored: responseBody?.stored ?? null,
    response_body_sha256: responseBody?.sha256 ?? null,
    // Redacted like the body they come from (a JSON credential key in an answer goes in both).
    response_text: reassembled ? redactor.body(reassembled.text) : null,
    response_thinking: reassembled?.thinking === undefined ? null : redactor.body(reassembled.thinking),
    // Each call's fields redacted before they are serialised, so the column is always valid JSON.
    tool_calls: reassembled && reassembled.toolCalls.length > 0 ? JSON.stringify(reassembled.toolCalls.map((c) => ({
      ...(c.id === undefined ? {} : { id: redact(c.id) }), name: redact(c.name), arguments: redactor.json(c.arguments),
    }))) : null,
    stop_reason: reassembled?.stopReason === undefined ? null : redact(reassembled.stopReason),
    input_tokens: usage?.inputTokens ?? null,
    output_tokens: usage?.outputTokens ?? null,
    cached_input_tokens: usage?.cachedInputTokens ?? null,
    reasoning_tokens: usage?.reasoningTokens ?? null,
    cache_creation_input_tokens: usage?.cacheCreationInputTokens ?? null,
    input_audio_tokens: usage?.inputAudioTokens ?? null,
    cached_audio_input_tokens: usage?.cachedAudioTokens ?? null,
    output_audio_tokens: usage?.outputAudioTokens ?? null,
    usage_parts: usagePartsColumn(usage),
    usage_estimated: ex.usageEstimated ? ESTIMATED_COLUMN[ex.usageEstimated] : null,
    // Per model, with prices: the writer fills it in (model-parts.ts) as it prices the row.
    model_usage: null,
    outcome: ex.outcome ?? null,
    error_code: ex.errorCode ?? null,
    tool_name: ex.tool ? redact(ex.tool.name) : null,
    tool_version: ex.tool?.version === undefined ? null : redact(ex.tool.version),
    // Agent ids are the client's own strings: a key pasted into one is still a key.
    agent: ex.agent ? redactor.json(JSON.stringify(ex.agent)) : null,
    quota: ex.quota ? redactor.json(JSON.stringify(ex.quota)) : null,
    // Decided by the archive as the row is written (sessions, cost).
    session_id: null,
    thread_id: null,
    turn: null,
    cost_usd: null,
    cost_source: null,
    // Rows carry plain bodies; the archive compacts them as it writes (body-parts.ts).
    request_body_layout: null,
    response_body_layout: null,
    // Rule ids and detector names are the operator's; places are JSON paths. No matched value is ever in it.
    policy: ex.policy ? redactor.json(JSON.stringify(ex.policy)) : null,
  };
}

export function tunnelToRow(t: TunnelRecord): TunnelRow {
  return {
    id: t.id,
    started_at: t.start,
    ended_at: t.end,
    client_address: t.clientAddress,
    client_user: t.clientUser ?? null,
    host: t.host,
    port: t.port,
    bytes_up: t.bytesUp,
    bytes_down: t.bytesDown,
    outcome: t.outcome,
  };
}

/**
 * A WebSocket message as stored: text redacted as a body (JSON credential keys, key
 * shapes, operator patterns), other payloads byte-wise through latin1, as bodies are.
 */
export function wsMessageToRow(exchangeId: string, m: WsMessageRecord, redactor: Redactor = builtInRedactor): WsMessageRow {
  const hints = { truncated: m.truncated };
  let data: Buffer | null = null;
  if (m.base64 !== undefined) {
    const latin1 = Buffer.from(m.base64, 'base64').toString('latin1');
    data = Buffer.from(redactor.body(latin1, hints), 'latin1');
  }
  return {
    exchange_id: exchangeId,
    seq: m.seq,
    direction: m.direction,
    at: m.at,
    opcode: m.opcode,
    size: m.size,
    compressed: m.compressed ? 1 : 0,
    truncated: m.truncated ? 1 : 0,
    text: m.text === undefined ? null : redactor.body(m.text, hints),
    data,
    error: m.error === undefined ? null : redactor.text(m.error),
  };
}

function headersJson(raw: RawHeaders, redactor: Redactor): string {
  const redacted = redactor.headers(raw);
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < redacted.length; i += 2) pairs.push([redacted[i]!, redacted[i + 1]!]);
  return JSON.stringify(pairs);
}
