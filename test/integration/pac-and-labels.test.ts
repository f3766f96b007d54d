import { createContext, runInContext } from 'node:vm';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { basic } from '../faults/security-helpers.js';
import { labelledProxyUrl } from '../../src/proxy/run-label.js';

/** `GET /proxy.pac` on the proxy's own port, and run labels carried by the proxy credential. */
describe('PAC endpoint and run labels', () => {
  let fake: FakeProvider;
  let local: TestProxy;
  let gw: TestProxy;

  beforeAll(async () => {
    fake = await startFakeProvider();
    local = await startTestProxy(fake, { intercept: ['localhost:11434'] });
    gw = await startTestProxy(fake, { host: '0.0.0.0', auth: [{ user: 'ops', password: 'secret pass' }] });
  });
  afterAll(async () => {
    await local.close();
    await gw.close();
    await fake.close();
  });

  it('serves a PAC naming the address it was reached on, routing the intercept list only', async () => {
    const port = local.proxy.address.port;
    const res = await request(`http://127.0.0.1:${port}/proxy.pac`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ns-proxy-autoconfig');
    const context = createContext({});
    runInContext(await res.body.text(), context);
    const find = (url: string, host: string) => runInContext(`FindProxyForURL(${JSON.stringify(url)}, ${JSON.stringify(host)})`, context) as string;
    expect(find('https://api.openai.com/', 'api.openai.com')).toBe(`PROXY 127.0.0.1:${port}`);
    expect(find('http://localhost:11434/api/chat', 'localhost')).toBe(`PROXY 127.0.0.1:${port}`);
    expect(find('https://example.org/', 'example.org')).toBe('DIRECT');
  });

  it('keeps the PAC behind the proxy users on a gateway', async () => {
    const url = `http://127.0.0.1:${gw.proxy.address.port}/proxy.pac`;
    expect((await request(url)).statusCode).toBe(401);
    const ok = await request(url, { headers: { authorization: basic('ops', 'secret pass') } });
    expect(ok.statusCode).toBe(200);
    expect(await ok.body.text()).toContain('function FindProxyForURL');
  });

  it('records the label of a run credential, and ignores other credentials on a local proxy', async () => {
    const call = async (proxyUrl: string, model: string) => {
      const agent = new ProxyAgent({ uri: proxyUrl, requestTls: { ca: local.caPem } });
      try {
        const res = await request('https://api.openai.com/v1/chat/completions', { method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' }, body: JSON.stringify({ model, messages: [] }) });
        expect(res.statusCode).toBe(200);
        await res.body.text();
      } finally {
        await agent.close();
      }
    };
    await call(labelledProxyUrl(local.url, 'eval #1'), 'gpt-label-a');
    const other = new URL(local.url);
    other.username = 'alice';
    other.password = 'corporate-secret';
    await call(other.toString(), 'gpt-label-b');
    const rows = await eventually(() => {
      const found = exported(local).filter((e) => String(e.model).startsWith('gpt-label-'));
      expect(found).toHaveLength(2);
      return found;
    });
    const byModel = new Map(rows.map((r) => [r.model, r as unknown as { client: { label: string | null; user: string | null } }]));
    expect(byModel.get('gpt-label-a')?.client).toMatchObject({ label: 'eval #1', user: null });
    expect(byModel.get('gpt-label-b')?.client).toMatchObject({ label: null, user: null });
  });
});
