import type { IncomingMessage, ServerResponse } from 'node:http';

/**
 * A host only llmtap answers: `llmtap doctor` sends a request through the proxy
 * to it, exercising the whole intercept path (CONNECT, leaf minted by the CA, the
 * client's trust in that CA, the inner HTTP server) with no network and no
 * provider. `.invalid` is reserved (RFC 6761): it can never name a real host.
 */
export const DOCTOR_HOST = 'doctor.llmtap.invalid';

export function isDoctorHost(host: string): boolean {
  return host.toLowerCase() === DOCTOR_HOST;
}

/** Answers the echo: what arrived, and the proxy's clock (Date header) for the skew check. */
export function answerDoctorEcho(req: IncomingMessage, res: ServerResponse, trust: { rejected: number; likelyRejected: number }): void {
  // The counts only: the reporter itself holds a logger and the addresses it warned about.
  const body = JSON.stringify({ llmtap: true, method: req.method, path: req.url, now: Date.now(), untrustedCa: { rejected: trust.rejected, likelyRejected: trust.likelyRejected } });
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'cache-control': 'no-store' });
  res.end(body);
}
