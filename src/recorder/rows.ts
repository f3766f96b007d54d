import { decodeBody } from '../content-encoding.js';
import { headerValue, type Captured, type Exchange, type RawHeaders, type TunnelRecord, type WsMessageRecord } from '../exchange.js';
import type { ExchangeRow, TunnelRow, WsMessageRow } from './db.js';
import { redactHeaders, redactPath, redactText, redactTruncatedText, type TextRedactor } from './redact.js';

/** Maps an exchange to its archive row: bodies decoded, every secret redacted. */
export function exchangeToRow(ex: Exchange, redact: TextRedactor = redactText): ExchangeRow {
  const { request, response, timings } = ex;
  const reassembled = response?.reassembled;
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
    client_user: ex.client.user ?? null,
    user_agent: userAgent === undefined ? null : redactText(userAgent),
    host: ex.target.host,
    port: ex.target.port,
    method: request.method,
    path: redactPath(request.path),
    status: response?.status ?? null,
    provider: ex.provider ?? null,
    api: ex.api ?? null,
    // What the client asked for is what people search by; the served name is the fallback.
    model: request.model ?? reassembled?.model ?? null,
    stream: request.stream === undefined ? null : request.stream ? 1 : 0,
    request_headers: headersJson(request.headers),
    request_body: storedBody(request.body, request.headers, redact),
    request_body_size: request.body.size,
    request_body_truncated: request.body.truncated ? 1 : 0,
    response_headers: response ? headersJson(response.headers) : null,
    response_body: response ? storedBody(response.body, response.headers, redact) : null,
    response_body_size: response?.body.size ?? null,
    response_body_truncated: response ? (response.body.truncated ? 1 : 0) : null,
    response_text: reassembled ? redact(reassembled.text) : null,
    response_thinking: reassembled?.thinking === undefined ? null : redact(reassembled.thinking),
    // Key patterns contain nothing JSON escapes, so redacting the JSON text keeps it valid.
    tool_calls: reassembled && reassembled.toolCalls.length > 0 ? redactText(JSON.stringify(reassembled.toolCalls)) : null,
    stop_reason: reassembled?.stopReason ?? null,
    input_tokens: usage?.inputTokens ?? null,
    output_tokens: usage?.outputTokens ?? null,
    cached_input_tokens: usage?.cachedInputTokens ?? null,
    reasoning_tokens: usage?.reasoningTokens ?? null,
    cache_creation_input_tokens: usage?.cacheCreationInputTokens ?? null,
    outcome: ex.outcome ?? null,
    error_code: ex.errorCode ?? null,
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

/** A WebSocket message as stored: text redacted as text, other payloads byte-wise (latin1, as bodies are). */
export function wsMessageToRow(exchangeId: string, m: WsMessageRecord, redactFully: TextRedactor = redactText): WsMessageRow {
  const redact = m.truncated ? (text: string) => redactTruncatedText(redactFully(text)) : redactFully;
  let data: Buffer | null = null;
  if (m.base64 !== undefined) {
    const latin1 = Buffer.from(m.base64, 'base64').toString('latin1');
    data = Buffer.from(redact(latin1), 'latin1');
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
    text: m.text === undefined ? null : redact(m.text),
    data,
    error: m.error ?? null,
  };
}

function headersJson(raw: RawHeaders): string {
  const redacted = redactHeaders(raw);
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < redacted.length; i += 2) pairs.push([redacted[i]!, redacted[i + 1]!]);
  return JSON.stringify(pairs);
}

/**
 * The body as stored: content-decoded when the coding is known and the bytes decode
 * (the raw bytes otherwise), then redacted. Text is redacted as UTF-8; anything else
 * byte-wise through latin1, which maps bytes 1:1 to code units, so an ASCII key inside
 * a binary body (a multipart upload, say) is still caught while every other byte stays.
 */
function storedBody(body: Captured, headers: RawHeaders, redactFully: TextRedactor): Buffer {
  const decoded = decodeBody(body.bytes, headerValue(headers, 'content-encoding')) ?? body.bytes;
  const redact = body.truncated ? (text: string) => redactTruncatedText(redactFully(text)) : redactFully;
  const text = decodeUtf8(decoded, body.truncated);
  if (text !== undefined) {
    const redacted = redact(text);
    // Re-encode only when something changed (or a cut-off character was dropped).
    return redacted === text && !body.truncated ? decoded : Buffer.from(redacted, 'utf8');
  }
  const latin1 = decoded.toString('latin1');
  const redacted = redact(latin1);
  return redacted === latin1 ? decoded : Buffer.from(redacted, 'latin1');
}

/**
 * Strict UTF-8 decoding. A truncated capture may end inside a character, so there
 * a trailing incomplete sequence is tolerated (stream mode holds it back and we drop it).
 */
function decodeUtf8(bytes: Buffer, truncated: boolean): string | undefined {
  try {
    return new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes, { stream: truncated });
  } catch {
    return undefined;
  }
}
