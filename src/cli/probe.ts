import { X509Certificate } from 'node:crypto';
import { request } from 'node:http';
import { formatAuthority } from '../proxy/route.js';

export type ProbeResult = 'llmtap' | 'other' | 'none';

/**
 * Is llmtap listening at host:port? Asks its status page (a direct GET /): llmtap
 * answers JSON naming itself, or 401 with `x-llmtap-error` on a gateway. Anything
 * else that answers is 'other'; a refused or silent port is 'none'.
 */
export function probeProxy(host: string, port: number, timeoutMs = 1500): Promise<ProbeResult> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/', headers: { accept: 'application/json' }, timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => { if (chunks.length < 64) chunks.push(c); });
      res.on('end', () => {
        if (res.headers['x-llmtap-error']) return resolve('llmtap');
        try {
          resolve((JSON.parse(Buffer.concat(chunks).toString('utf8')) as { name?: unknown }).name === 'llmtap' ? 'llmtap' : 'other');
        } catch {
          resolve('other');
        }
      });
      res.on('error', () => resolve('other'));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err: NodeJS.ErrnoException) => resolve(err.code === 'ECONNREFUSED' || err.message === 'timeout' ? 'none' : 'other'));
    req.end();
  });
}

/** Polls until llmtap answers at host:port or the deadline passes. */
export async function waitForProxy(host: string, port: number, deadlineMs: number): Promise<boolean> {
  const until = Date.now() + deadlineMs;
  while (Date.now() < until) {
    if ((await probeProxy(host, port, 500)) === 'llmtap') return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}

/** The CA certificate the llmtap at host:port presents (its `/ca.pem`); undefined when it does not say (a gateway's login first). */
function proxyCaPem(host: string, port: number, timeoutMs = 1500): Promise<string | undefined> {
  return new Promise((resolve) => {
    const req = request({ host, port, path: '/ca.pem', timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve(res.statusCode === 200 ? Buffer.concat(chunks).toString('utf8') : undefined));
      res.on('error', () => resolve(undefined));
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', () => resolve(undefined));
    req.end();
  });
}

/**
 * When the llmtap on the port signs with another CA than the one at `certPath` (it runs
 * with another --home, e.g. `llmtap start` under a default home and `run` under
 * LLMTAP_HOME), the one-line warning: the tools would fail in their own words
 * ("unable to get local issuer certificate") with nothing pointing at the cause.
 */
export async function otherCaWarning(host: string, port: number, certPem: string, certPath: string): Promise<string | undefined> {
  const theirs = await proxyCaPem(host, port);
  if (theirs === undefined) return undefined;
  let same: boolean;
  try {
    same = new X509Certificate(theirs).fingerprint256 === new X509Certificate(certPem).fingerprint256;
  } catch {
    return undefined; // not a certificate: nothing to compare
  }
  if (same) return undefined;
  return `llmtap: warning: the proxy on ${formatAuthority(host, port)} signs with another CA than ${certPath} (it runs with another --home): tools given this CA will refuse its certificates; give the proxy's --home (or LLMTAP_HOME)\n`;
}
