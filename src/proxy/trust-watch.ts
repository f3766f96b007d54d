import type { TLSSocket } from 'node:tls';
import type { Logger } from '../log.js';

/**
 * Noticing clients that do not trust the llmtap CA. Such a client fails in its own
 * terms ("certificate verify failed", "self-signed certificate in chain") and the
 * user has no reason to suspect the proxy; here the proxy says so itself, at warn,
 * naming the host and the fix.
 *
 * Two shapes exist on the wire:
 * - OpenSSL-based clients (curl, Python, Go, browsers) send a fatal alert:
 *   unknown_ca (48), bad_certificate (42) or certificate_unknown (46). Certain.
 * - Node clients verify after OpenSSL's handshake and just close, without an alert:
 *   over TLS 1.3 the server sees a reset before the client's Finished, over TLS 1.2
 *   a finished handshake followed by a close without a single request. Likely, not
 *   certain (a client may also give up for its own reasons), and said so.
 */
export type TrustVerdict = 'rejected' | 'likely-rejected';

const REJECTING_ALERTS = new Set([
  'ERR_SSL_TLSV1_ALERT_UNKNOWN_CA',
  'ERR_SSL_SSLV3_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_SSLV3_ALERT_CERTIFICATE_UNKNOWN',
  'ERR_SSL_TLSV1_ALERT_BAD_CERTIFICATE',
  'ERR_SSL_TLSV1_ALERT_CERTIFICATE_UNKNOWN',
]);

/** Classifies a client-side TLS error on an intercepted socket. */
export function classifyClientTlsError(code: string | undefined, handshakeDone: boolean): TrustVerdict | undefined {
  if (code && REJECTING_ALERTS.has(code)) return 'rejected';
  if (!handshakeDone && code === 'ECONNRESET') return 'likely-rejected';
  return undefined;
}

/**
 * The flags that name this proxy again in a fix: its home (` --home '…'`, for `trust` too)
 * and its port, empty for the defaults. A bare `llmtap run` or `trust` would point at
 * another CA and proxy than the one the client met.
 */
export interface FixFlags {
  home: string;
  proxy: string;
}

/** The message a user sees; one line, naming the fix. */
export function untrustedMessage(verdict: TrustVerdict, flags: FixFlags = { home: '', proxy: '' }): string {
  const what = verdict === 'rejected'
    ? 'a client rejected the llmtap CA certificate (TLS alert)'
    : 'a client closed the intercepted TLS connection without sending a request; it likely does not trust the llmtap CA (Node clients close silently)';
  return `${what}: run \`llmtap trust${flags.home}\` (system store), start the tool with \`llmtap run${flags.proxy} -- CMD\`, or see \`llmtap doctor${flags.proxy}\``;
}

const WINDOW_MS = 10 * 60_000;
const MAX_KEYS = 1000;

/**
 * Counts every rejection and logs one warning per client address + host per ten
 * minutes: a tool retrying in a loop must not flood the log.
 */
export class TrustReporter {
  rejected = 0;
  likelyRejected = 0;
  private readonly lastWarned = new Map<string, number>();
  /** Set by `llmtap start` once it listens (a proxy on this machine; a gateway's clients run their own llmtap). */
  fixFlags: FixFlags | undefined;

  constructor(private readonly logger: Logger, private readonly now: () => number = Date.now) {}

  get total(): number {
    return this.rejected + this.likelyRejected;
  }

  report(verdict: TrustVerdict, host: string, clientAddress: string): void {
    if (verdict === 'rejected') this.rejected++;
    else this.likelyRejected++;
    if (!this.shouldWarn(`${clientAddress} ${host}`)) return;
    this.logger.warn({ host, client: clientAddress, verdict }, untrustedMessage(verdict, this.fixFlags));
  }

  private shouldWarn(key: string): boolean {
    const now = this.now();
    const last = this.lastWarned.get(key);
    if (last !== undefined && now - last < WINDOW_MS) return false;
    this.lastWarned.delete(key);
    if (this.lastWarned.size >= MAX_KEYS) {
      // Bounded: the oldest entry (Map keeps insertion order) goes first.
      const oldest = this.lastWarned.keys().next().value;
      if (oldest !== undefined) this.lastWarned.delete(oldest);
    }
    this.lastWarned.set(key, now);
    return true;
  }
}

/**
 * Watches one intercepted TLS socket. `spoke` tells whether the inner HTTP server
 * ever saw a request (or upgrade) on it. Returns `dismiss`, for when llmtap itself
 * ends the socket (handshake timeout, shutdown): that close says nothing of trust.
 */
export function watchClientTrust(tlsSocket: TLSSocket, host: string, clientAddress: string, reporter: TrustReporter, spoke: (s: TLSSocket) => boolean): () => void {
  let secure = false;
  let settled = false;
  const report = (verdict: TrustVerdict | undefined): void => {
    if (settled) return;
    settled = true;
    if (verdict) reporter.report(verdict, host, clientAddress);
  };
  tlsSocket.once('secure', () => { secure = true; });
  tlsSocket.on('error', (err: NodeJS.ErrnoException) => report(classifyClientTlsError(err.code, secure)));
  // A close with no error and no request: over TLS 1.3 a Node client that rejected the
  // leaf closes before its Finished (no 'secure' here), over TLS 1.2 right after it.
  tlsSocket.once('close', () => report(spoke(tlsSocket) ? undefined : 'likely-rejected'));
  return () => { settled = true; };
}
