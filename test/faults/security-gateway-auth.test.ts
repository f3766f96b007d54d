/**
 * Fault list #3, in process: in gateway mode (listening on 0.0.0.0) a client without
 * valid Proxy-Authorization gets 407 with `Proxy-Authenticate: Basic realm="llmtap"`
 * and nothing is forwarded; with valid credentials the exchange is recorded under
 * the proxy user, and the credentials never travel upstream.
 * (The CLI side — passwd, --auth-file, refusing gateway mode without auth — is in
 * security-cli-auth.test.ts.)
 */
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { eventually, exported } from '../helpers/archive.js';
import { OPENAI_TEXT, startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { FAKE_HOSTS, startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { CHAT, basic, expect407, rawExchange } from './security-helpers.js';

let fake: FakeProvider;
let plain: FakeProvider;
let gw: TestProxy;

beforeAll(async () => {
  fake = await startFakeProvider();
  plain = await startFakeProvider({ tls: false });
  gw = await startTestProxy(fake, {
    host: '0.0.0.0',
    auth: [{ user: 'u', password: 'p' }, { user: 'plain-first', password: 'q' }],
    intercept: ['plain.test:80'],
    connectTo: [...FAKE_HOSTS.map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`)), parseConnectTo(`plain.test:80:127.0.0.1:${plain.port}`)],
  });
});
afterAll(async () => {
  await gw?.close();
  await fake?.close();
  await plain?.close();
});

describe('gateway mode, in process', () => {
  it('FAULT 3: no, wrong or garbage Proxy-Authorization → 407 Basic realm="llmtap"; nothing forwarded', async () => {
    const port = gw.proxy.address.port;
    expect(gw.proxy.address.address).toBe('0.0.0.0');
    const seen = fake.seen.length + plain.seen.length;
    const headers = ['', `Proxy-Authorization: ${basic('u', 'wrong')}\r\n`, `Proxy-Authorization: ${basic('nobody', 'p')}\r\n`,
      'Proxy-Authorization: Basic !!!\r\n', `Proxy-Authorization: Bearer ${Buffer.from('u:p').toString('base64')}\r\n`,
      `Authorization: ${basic('u', 'p')}\r\n`]; // credentials for the origin are not proxy credentials
    for (const h of headers) {
      expect407(await rawExchange(port, `CONNECT api.openai.com:443 HTTP/1.1\r\nHost: api.openai.com:443\r\n${h}\r\n`), `CONNECT ${h}`);
      expect407(await rawExchange(port, `POST http://plain.test/v1/chat/completions HTTP/1.1\r\nHost: plain.test\r\n${h}Content-Type: application/json\r\nContent-Length: ${CHAT.length}\r\n\r\n${CHAT}`), `plain ${h}`);
    }
    expect(fake.seen.length + plain.seen.length).toBe(seen);
  });

  it('FAULT 3: with valid credentials the exchange goes through and is recorded with the proxy user', async () => {
    const agent = new ProxyAgent({ uri: gw.url, token: basic('u', 'p'), requestTls: { ca: gw.caPem } });
    try {
      const res = await request('https://api.openai.com/v1/chat/completions', {
        dispatcher: agent, method: 'POST', body: CHAT, headers: { 'content-type': 'application/json', 'user-agent': 'gateway-https' },
      });
      expect(res.statusCode).toBe(200);
      expect((await res.body.json() as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe(OPENAI_TEXT);
    } finally {
      await agent.close();
    }
    // Plain HTTP: the proxy credentials are consumed, never forwarded.
    const a = await rawExchange(gw.proxy.address.port, `POST http://plain.test/v1/chat/completions HTTP/1.1\r\nHost: plain.test\r\nProxy-Authorization: ${basic('u', 'p')}\r\nUser-Agent: gateway-plain\r\nContent-Type: application/json\r\nContent-Length: ${CHAT.length}\r\nConnection: close\r\n\r\n${CHAT}`);
    expect(a.status).toBe(200);
    const last = plain.seen.at(-1)!;
    expect(last.rawHeaders.map((h) => h.toLowerCase())).not.toContain('proxy-authorization');
    const recs = await eventually(() => {
      const r = exported(gw).filter((e) => String(e.client.user_agent).startsWith('gateway-'));
      if (r.length < 2) throw new Error('not yet');
      return r;
    });
    expect(recs.map((r) => [r.client.user_agent, r.client.user, r.status])).toEqual([['gateway-https', 'u', 200], ['gateway-plain', 'u', 200]]);
    expect(JSON.stringify(recs)).not.toContain(Buffer.from('u:p').toString('base64'));
  });

  it('a plain-HTTP POST whose login is checked for the first time (one scrypt) goes up with its whole body', async () => {
    const a = await rawExchange(gw.proxy.address.port, `POST http://plain.test/v1/chat/completions HTTP/1.1\r\nHost: plain.test\r\nProxy-Authorization: ${basic('plain-first', 'q')}\r\nContent-Type: application/json\r\nContent-Length: ${CHAT.length}\r\nConnection: close\r\n\r\n${CHAT}`);
    expect(a.status).toBe(200);
    const last = plain.seen.at(-1)!;
    expect(last.body.toString()).toBe(CHAT);
    expect(last.rawHeaders).toContain(String(CHAT.length));
  });
});
