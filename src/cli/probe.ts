import { request } from 'node:http';

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
