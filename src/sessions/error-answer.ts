import type { ExchangeRow } from '../recorder/row-types.js';

/** Longest error line a turn shows: the message says what went wrong in its first words. */
const MAX = 240;

/**
 * What an error answer says, as a turn's stop reason (`error: model_not_found: The model
 * … does not exist`), like a refused WebSocket request's `error: model_not_allowed`:
 * without it a failed turn read back as the prompt and an empty answer. llmtap's own code
 * when llmtap answered, else the one the body names in the provider's shape — OpenAI
 * `{error: {code, type, message}}`, Anthropic `{type: "error", error: {type, message}}`,
 * Google `{error: {status, message}}` (also as a streamed array), Ollama `{error: "…"}`,
 * Bedrock `{message}`. Undefined for an answer that is not an error. The body is stored
 * redacted, and the caller renders through terminalSafe.
 */
export function errorStopReason(row: Pick<ExchangeRow, 'status' | 'error_code' | 'response_body'>): string | undefined {
  if (row.error_code === null && (row.status === null || row.status < 400)) return undefined;
  const named = namedError(row.response_body);
  const code = row.error_code ?? named.code;
  const text = [code, named.message?.replace(/\s+/g, ' ').trim()].filter((p) => p !== undefined && p !== '').join(': ');
  const line = `error: ${text || `HTTP ${row.status}`}`;
  return line.length > MAX ? `${line.slice(0, MAX - 1)}…` : line;
}

function namedError(body: Buffer | null): { code?: string; message?: string } {
  let json: unknown;
  try {
    json = JSON.parse(body?.toString('utf8') ?? '');
  } catch {
    return {};
  }
  const top = Array.isArray(json) ? json[0] : json;
  if (top === null || typeof top !== 'object') return {};
  const { error, message } = top as { error?: unknown; message?: unknown };
  if (typeof error === 'string') return { message: error };
  if (error !== null && typeof error === 'object') {
    const e = error as { code?: unknown; status?: unknown; type?: unknown; message?: unknown };
    const code = [e.code, e.status, e.type].find((v): v is string => typeof v === 'string' && v !== '');
    return { ...(code ? { code } : {}), ...(typeof e.message === 'string' ? { message: e.message } : {}) };
  }
  return typeof message === 'string' ? { message } : {};
}
