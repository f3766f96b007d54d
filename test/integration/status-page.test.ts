import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { basic } from '../faults/security-helpers.js';
import { renderStatus } from '../../src/proxy/status-page.js';

/** `GET /` on the proxy's own port: open on a local proxy, behind the proxy users on a gateway. */
describe('status page', () => {
  let fake: FakeProvider;
  let local: TestProxy;
  let gw: TestProxy;

  beforeAll(async () => {
    fake = await startFakeProvider();
    local = await startTestProxy(fake);
    gw = await startTestProxy(fake, { host: '0.0.0.0', auth: [{ user: 'ops', password: 'secret pass' }] });
  });
  afterAll(async () => {
    await local.close();
    await gw.close();
    await fake.close();
  });

  const get = (tp: TestProxy, headers: Record<string, string> = {}) => request(`http://127.0.0.1:${tp.proxy.address.port}/`, { headers });

  it('a local proxy answers without auth, with live counters that move after an exchange', async () => {
    const before = (await (await get(local, { accept: 'application/json' })).body.json()) as { exchanges: { finished: number }; version: string };
    await request('https://api.openai.com/v1/chat/completions', { method: 'POST', dispatcher: local.agent, headers: { 'content-type': 'application/json' }, body: '{"model":"gpt-4o-mini","messages":[]}' }).then((r) => r.body.text());
    const res = await get(local, { accept: 'application/json' });
    expect(res.statusCode).toBe(200);
    const after = (await res.body.json()) as { exchanges: { finished: number }; recorder: { healthy: boolean }; version: string };
    expect(after.exchanges.finished).toBe(before.exchanges.finished + 1);
    expect(after.recorder.healthy).toBe(true);
    expect(after.version).toMatch(/^\d+\.\d+\.\d+/);
  });

  it('a gateway answers 401 with WWW-Authenticate without a user, and the page with one (Authorization or Proxy-Authorization)', async () => {
    const anonymous = await get(gw, { accept: 'application/json' });
    expect(anonymous.statusCode).toBe(401);
    expect(anonymous.headers['www-authenticate']).toBe('Basic realm="llmtap"');
    expect(JSON.stringify(await anonymous.body.json())).not.toContain('exchanges');
    expect((await get(gw, { authorization: basic('ops', 'wrong') })).statusCode).toBe(401);
    const ok = await get(gw, { authorization: basic('ops', 'secret pass'), accept: 'application/json' });
    expect(ok.statusCode).toBe(200);
    expect(await ok.body.json()).toHaveProperty('exchanges');
    expect((await get(gw, { 'proxy-authorization': basic('ops', 'secret pass') })).statusCode).toBe(200);
  });

  it('/healthz answers a load balancer without credentials, even on a gateway, and says nothing else', async () => {
    const health = (method: 'GET' | 'HEAD', path = '/healthz') => request(`http://127.0.0.1:${gw.proxy.address.port}${path}`, { method });
    const res = await health('GET');
    expect([res.statusCode, res.headers['content-type'], res.headers['cache-control']]).toEqual([200, 'application/json', 'no-store']);
    expect(await res.body.json()).toEqual({ status: 'ok', archive: 'ok' });
    const head = await health('HEAD', '/healthz?probe=lb');
    expect([head.statusCode, await head.body.text()]).toEqual([200, '']);
    // Everything else on the port still wants a user.
    expect((await health('GET', '/healthzz')).statusCode).toBe(401);
  });

  it('browsers get an HTML page under a strict Content-Security-Policy, values escaped', async () => {
    const res = await get(local, { accept: 'text/html,application/xhtml+xml' });
    expect(res.headers['content-type']).toMatch(/^text\/html/);
    expect(res.headers['content-security-policy']).toMatch(/default-src 'none'/);
    const html = await res.body.text();
    expect(html).toContain('<h1>llmtap');
    expect(html).not.toMatch(/<script|src=/i);
    const page = renderStatus({ exchanges: { started: 0, finished: 0, inFlight: 0 }, tunnels: { opened: 0, closed: 0 }, refusals: { '<script>alert(1)</script>': 1 }, recorder: { recorded: 0, lost: 0, pending: 0, healthy: true }, uptimeSeconds: 1 }, 'text/html');
    expect(page.body).not.toContain('<script>');
    expect(page.body).toContain('&#60;script&#62;');
  });
});
