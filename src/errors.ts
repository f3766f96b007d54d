import type { ProviderId } from './exchange.js';

/**
 * Errors llmtap makes itself. The code is stable (clients and tests match on it);
 * it travels in the `x-llmtap-error` header next to a provider-shaped JSON body.
 */
export const ERROR_CODES = {
  bad_request: { status: 400, message: 'llmtap could not parse the request' },
  /** Inside an intercepted CONNECT tunnel, a request naming another origin (its URI or Host) than the tunnel's (tunnel-target.ts). */
  target_mismatch: { status: 400, message: 'the request names another origin than its CONNECT tunnel' },
  proxy_auth_required: { status: 407, message: 'llmtap requires proxy authentication' },
  forbidden_target: { status: 403, message: 'llmtap refuses to connect to this destination' },
  request_timeout: { status: 408, message: 'the request (head or body) did not arrive in time' },
  request_too_large: { status: 413, message: 'request body exceeds the limit llmtap buffers' },
  headers_too_large: { status: 431, message: 'request headers exceed the limit llmtap accepts' },
  rate_limited: { status: 429, message: 'rate limited by llmtap policy' },
  blocked: { status: 403, message: 'blocked by llmtap policy' },
  model_not_allowed: { status: 403, message: 'this model is not allowed by llmtap policy' },
  content_blocked: { status: 400, message: 'the request holds content llmtap policy does not let leave this machine' },
  /**
   * 429, not 402: both SDKs turn 429 into their typed RateLimitError (402 is a bare APIError
   * in openai and @anthropic-ai/sdk, and Google/Bedrock clients have no 402 at all), and
   * 429 is how providers themselves say a quota is spent (OpenAI insufficient_quota, Gemini
   * RESOURCE_EXHAUSTED). The answer carries `x-should-retry: false`, which both SDKs obey,
   * so they do not retry a budget that only the next period resets.
   */
  budget_exceeded: { status: 429, message: 'the llmtap policy budget for this period is spent' },
  max_tokens_exceeded: { status: 400, message: 'the requested max tokens are above the cap llmtap policy allows' },
  upstream_unreachable: { status: 502, message: 'llmtap could not connect to the upstream provider' },
  upstream_tls: { status: 502, message: 'the upstream certificate failed verification' },
  upstream_timeout: { status: 504, message: 'the upstream provider did not answer in time' },
  upstream_error: { status: 502, message: 'the upstream connection failed' },
  /** --upstream-proxy: the parent proxy could not be reached, refused the credentials (407), or refused the CONNECT. */
  upstream_proxy_unreachable: { status: 502, message: 'llmtap could not reach its upstream proxy' },
  upstream_proxy_auth: { status: 502, message: 'the upstream proxy refused llmtap\'s credentials' },
  upstream_proxy_refused: { status: 502, message: 'the upstream proxy refused the connection' },
  archive_unavailable: { status: 503, message: 'llmtap cannot write its archive (fail-closed mode)' },
  /** A WebSocket (or other long-lived exchange) still open at the drain deadline, closed by llmtap. */
  shutdown: { status: 503, message: 'llmtap is shutting down' },
  /**
   * `llmtap mock`: no recorded exchange answers this request. 404, not 501: both SDKs
   * raise their typed NotFoundError at once (5xx would be retried with backoff first),
   * and nothing was sent anywhere.
   */
  no_recording: { status: 404, message: 'llmtap mock has no recorded answer for this request' },
  internal: { status: 500, message: 'llmtap hit an internal error' },
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export class LlmtapError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  /** Extra response headers (e.g. Retry-After, Proxy-Authenticate). */
  readonly headers: Record<string, string>;

  constructor(code: ErrorCode, options: { cause?: unknown; headers?: Record<string, string>; detail?: string } = {}) {
    super(options.detail ?? ERROR_CODES[code].message, { cause: options.cause });
    this.name = 'LlmtapError';
    this.code = code;
    this.status = ERROR_CODES[code].status;
    this.headers = options.headers ?? {};
  }
}

/** Error codes that Node's TLS layer uses when a peer certificate does not verify. */
const TLS_VERIFY_CODES = new Set([
  'DEPTH_ZERO_SELF_SIGNED_CERT', 'SELF_SIGNED_CERT_IN_CHAIN', 'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT', 'UNABLE_TO_GET_ISSUER_CERT_LOCALLY', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID',
  'ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_UNTRUSTED', 'CERT_REJECTED', 'CERT_SIGNATURE_FAILURE',
  'HOSTNAME_MISMATCH', 'INVALID_CA', 'ERR_SSL_WRONG_VERSION_NUMBER',
  // A CA certificate served as the server's own (INVALID_PURPOSE) and other chain faults are verification failures too.
  'INVALID_PURPOSE', 'CERT_CHAIN_TOO_LONG', 'PATH_LENGTH_EXCEEDED', 'CERT_REVOKED', 'UNABLE_TO_DECRYPT_CERT_SIGNATURE',
  'UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY', 'ERROR_IN_CERT_NOT_BEFORE_FIELD', 'ERROR_IN_CERT_NOT_AFTER_FIELD',
]);

const CONNECT_CODES = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ECONNRESET', 'EPIPE']);

/** Maps an error from the upstream side (node or undici) to a stable llmtap code. */
export function classifyUpstreamError(err: unknown): ErrorCode {
  if (err instanceof LlmtapError) return err.code;
  const codes = errorCodes(err);
  if (codes.includes('ERR_LLMTAP_FORBIDDEN_TARGET')) return 'forbidden_target';
  if (codes.some((c) => TLS_VERIFY_CODES.has(c) || c.startsWith('ERR_SSL') || c.startsWith('ERR_TLS'))) return 'upstream_tls';
  if (codes.some((c) => c.includes('TIMEOUT') || c === 'ETIMEDOUT')) return 'upstream_timeout';
  if (codes.some((c) => CONNECT_CODES.has(c))) return 'upstream_unreachable';
  return 'upstream_error';
}

/**
 * The message of an llmtap error about the upstream side, naming the host it was
 * about (`authority`) so a user reading the 502 knows which connection failed. Errors
 * that already say what failed (the --upstream-proxy ones) keep their own text.
 */
export function upstreamFailureDetail(code: ErrorCode, err: unknown, authority: string): string {
  if (err instanceof LlmtapError && err.message !== ERROR_CODES[err.code].message) return err.message;
  // The cause (ECONNREFUSED, the --connect-to address) stays in the log: the client gets no internals.
  switch (code) {
    case 'upstream_unreachable': return `llmtap could not connect to the upstream provider ${authority}`;
    case 'upstream_tls': return `the certificate of ${authority} failed verification`;
    case 'upstream_timeout': return `${authority} did not answer in time`;
    case 'upstream_error': return `the upstream connection to ${authority} failed`;
    default: return ERROR_CODES[code].message;
  }
}

function errorCodes(err: unknown): string[] {
  const out: string[] = [];
  let cur: unknown = err;
  for (let depth = 0; cur && depth < 5; depth++) {
    const e = cur as { code?: unknown; cause?: unknown };
    if (typeof e.code === 'string') out.push(e.code);
    cur = e.cause;
  }
  return out;
}

/** A JSON error body in the shape the provider's own errors have, so SDKs surface it cleanly. */
export function providerErrorBody(provider: ProviderId | undefined, code: ErrorCode, message: string): string {
  const status = ERROR_CODES[code].status;
  switch (provider) {
    case 'anthropic':
      return JSON.stringify({ type: 'error', error: { type: anthropicType(status), message: `${message} (${code})` } });
    case 'gemini':
    case 'vertex-ai':
    case 'gemini-code-assist':
      return JSON.stringify({ error: { code: status, message: `${message} (${code})`, status: googleStatus(status) } });
    // Cohere's errors are `{"message": "invalid api token"}`; its SDKs raise them with that body.
    case 'cohere':
      return JSON.stringify({ message: `${message} (${code})` });
    case 'bedrock':
      // AWS JSON protocol: the SDK takes the exception name from x-amzn-errortype (providerErrorHeaders).
      return JSON.stringify({ message: `${message} (${code})` });
    default:
      return JSON.stringify({ error: { message: `${message} (${code})`, type: 'llmtap_error', param: null, code } });
  }
}

/** Headers a provider's clients read the error kind from (Bedrock: x-amzn-errortype). */
export function providerErrorHeaders(provider: ProviderId | undefined, code: ErrorCode): Record<string, string> {
  if (provider !== 'bedrock') return {};
  const status = ERROR_CODES[code].status;
  const type = status === 429 ? 'ThrottlingException' : status === 403 ? 'AccessDeniedException' : status < 500 ? 'ValidationException' : 'InternalServerException';
  return { 'x-amzn-errortype': `${type}:http://internal.amazon.com/coral/com.amazon.bedrock/` };
}

function anthropicType(status: number): string {
  if (status === 429) return 'rate_limit_error';
  if (status === 403) return 'permission_error';
  if (status === 413) return 'request_too_large';
  if (status === 404) return 'not_found_error';
  if (status < 500) return 'invalid_request_error';
  return 'api_error';
}

function googleStatus(status: number): string {
  if (status === 429) return 'RESOURCE_EXHAUSTED';
  if (status === 403) return 'PERMISSION_DENIED';
  if (status === 504) return 'DEADLINE_EXCEEDED';
  if (status === 404) return 'NOT_FOUND';
  if (status < 500) return 'INVALID_ARGUMENT';
  return 'UNAVAILABLE';
}
