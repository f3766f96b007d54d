/**
 * The target of a request inside an intercepted CONNECT tunnel. An absolute-form request
 * line (`POST https://api.openai.com/v1/chat/completions HTTP/1.1`) goes upstream in
 * origin-form, with the URL's Host, and is recorded with its path. One naming another
 * origin than the CONNECT target — by its absolute URI, or by its Host header in
 * origin-form — gets 400 `target_mismatch` and is never forwarded to the tunnel's host.
 * Requests and WebSocket upgrades alike. Raw TLS sockets inside the tunnel: exact request
 * lines, what the provider received.
 */
import type { Socket } from 'node:net';
import { describe, expect, it } from 'vitest';
import { eventually, exported } from '../helpers/archive.js';
import { fakeBehindProxy } from '../helpers/fake-behind-proxy.js';
import { exchangeUntilClose, interceptedSocket } from '../helpers/raw-client.js';
import { CHAT } from './security-helpers.js';

const env = fakeBehindProxy();

const intercepted = (): Promise<Socket> => interceptedSocket(env.tp.proxy.address.port, env.tp.caPem);

function post(target: string, host: string | undefined, id: string): string {
  return `POST ${target} HTTP/1.1\r\n${host === undefined ? '' : `Host: ${host}\r\n`}X-Test-Id: ${id}\r\nContent-Type: application/json\r\nContent-Length: ${CHAT.length}\r\nConnection: close\r\n\r\n${CHAT}`;
}

describe('absolute-form and Host inside an intercepted tunnel', () => {
  it('an absolute-form request to the tunnel\'s origin goes upstream in origin-form, and is recorded with its path', async () => {
    const answer = await exchangeUntilClose(await intercepted(), post('https://api.openai.com/v1/chat/completions?trace=1', 'api.openai.com', 'abs-ok'));
    expect(answer.raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(env.fake.seen.map((s) => s.url)).toEqual(['/v1/chat/completions?trace=1']);
    const rec = await eventually(() => {
      const found = exported(env.tp).find((e) => e.path.startsWith('/v1/chat/completions?trace=1'));
      if (!found) throw new Error('not recorded yet');
      return found;
    });
    expect(rec.host).toBe('api.openai.com');
    expect(rec.model).toBe('gpt-4o-mini');
  });

  it('absolute-form wins over a Host naming another server: the request goes up with the URL\'s Host', async () => {
    const answer = await exchangeUntilClose(await intercepted(), post('https://api.openai.com/v1/chat/completions', 'evil.test', 'abs-host'));
    expect(answer.raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(env.fake.seen).toHaveLength(1);
    const hosts = env.fake.seen[0]!.rawHeaders.filter((_, i, a) => i % 2 === 1 && a[i - 1]!.toLowerCase() === 'host');
    expect(hosts).toEqual(['api.openai.com']);
  });

  it('an absolute-form request naming another host, port or scheme: 400 target_mismatch, nothing forwarded, connection closed', async () => {
    for (const target of ['https://evil.test/v1/chat/completions', 'https://api.openai.com:8443/v1/chat/completions', 'http://api.openai.com/v1/chat/completions']) {
      const answer = await exchangeUntilClose(await intercepted(), post(target, 'api.openai.com', 'abs-other'));
      expect(answer.raw, target).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer.raw.toLowerCase(), target).toContain('x-llmtap-error: target_mismatch');
      expect(answer.raw, target).toContain('"code":"target_mismatch"');
      expect(answer.closed, target).toBe(true);
    }
    expect(env.fake.seen).toEqual([]);
  });

  it('origin-form with a Host naming another server: 400 target_mismatch, as for the absolute-form; a Host naming the tunnel\'s host passes', async () => {
    const refused = await exchangeUntilClose(await intercepted(), post('/v1/chat/completions', 'evil.test', 'host-other'));
    expect(refused.raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(refused.raw.toLowerCase()).toContain('x-llmtap-error: target_mismatch');
    expect(env.fake.seen).toEqual([]);
    const passed = await exchangeUntilClose(await intercepted(), post('/v1/chat/completions', 'API.OPENAI.COM:443', 'host-same'));
    expect(passed.raw).toMatch(/^HTTP\/1\.1 200 /);
    expect(env.fake.seen).toHaveLength(1);
  });

  it('a WebSocket upgrade whose Host names another server: 400 target_mismatch, nothing dialled', async () => {
    const upgrade = 'GET /v1/realtime?model=gpt-4o-realtime-preview HTTP/1.1\r\nHost: evil.test\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n'
      + 'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n';
    const answer = await exchangeUntilClose(await intercepted(), upgrade);
    expect(answer.raw).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer.raw.toLowerCase()).toContain('x-llmtap-error: target_mismatch');
    expect(env.fake.seen).toEqual([]);
  });
});
