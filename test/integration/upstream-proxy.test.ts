/**
 * --upstream-proxy: llmtap behind a corporate CONNECT proxy that requires Basic auth.
 * Tunnels, intercepted LLM calls and plain-HTTP forwards all go through the parent;
 * upstream TLS is still verified against the real host name; the parent's credential
 * never reaches the logs; the parent's failures come back as stable llmtap codes.
 */
import { createServer as createHttpServer, request as httpRequest, type Server as HttpServer } from 'node:http';
import { connect as createConnection, createServer, type AddressInfo, type Server } from 'node:net';
import { PassThrough } from 'node:stream';
import { fetch } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { createLogger } from '../../src/log.js';
import { LeafCertificates } from '../../src/tls/leaf.js';
import { eventually, exported, exportedTunnels } from '../helpers/archive.js';
import { startConnectProxy, type ConnectProxy } from '../helpers/connect-proxy.js';
import { OPENAI_TEXT, startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { connectThrough } from '../helpers/raw-client.js';
import { FAKE_HOSTS, startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const PASSWORD = 'c0rp-PLANTED-secret';
let fake: FakeProvider;
let parent: ConnectProxy;
let echo: Server;
let plain: HttpServer;
const logs: string[] = [];

function rules(): ReturnType<typeof parseConnectTo>[] {
  return [
    ...FAKE_HOSTS.map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`)),
    parseConnectTo(`tunnel.example:443:127.0.0.1:${(echo.address() as AddressInfo).port}`),
    parseConnectTo(`plain.example:80:127.0.0.1:${(plain.address() as AddressInfo).port}`),
  ];
}

async function proxyWith(upstreamProxy: string): Promise<TestProxy> {
  const destination = new PassThrough();
  destination.on('data', (d: Buffer) => logs.push(d.toString()));
  return startTestProxy(fake, { upstreamProxy, connectTo: rules() }, { logger: createLogger({ level: 'debug', destination }) });
}

function chat(tp: TestProxy): Promise<Response> {
  return fetch('https://api.openai.com/v1/chat/completions', {
    dispatcher: tp.agent, method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }),
  }) as unknown as Promise<Response>;
}

/** A CONNECT through llmtap; resolves with the whole answer when llmtap refuses it. */
function rawConnect(port: number, authority: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = createConnection(port);
    let text = '';
    s.on('data', (d: Buffer) => (text += d.toString()));
    s.once('end', () => resolve(text));
    s.once('error', reject);
    s.write(`CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n\r\n`);
  });
}

beforeAll(async () => {
  fake = await startFakeProvider();
  parent = await startConnectProxy({ user: 'corp', pass: PASSWORD });
  echo = createServer((s) => s.pipe(s));
  await new Promise<void>((r) => echo.listen(0, '127.0.0.1', r));
  plain = createHttpServer((req, res) => res.end(`plain ${req.url}`));
  await new Promise<void>((r) => plain.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  await parent?.close();
  await fake?.close();
  echo?.close();
  plain?.close();
});

describe('--upstream-proxy', () => {
  it('carries a tunnel, an intercepted call and a plain-HTTP forward through the parent; the exchange is recorded', async () => {
    const tp = await proxyWith(`http://corp:${PASSWORD}@127.0.0.1:${parent.port}`);
    try {
      const res = await chat(tp);
      expect(res.status).toBe(200);
      expect(((await res.json()) as { choices: Array<{ message: { content: string } }> }).choices[0]!.message.content).toBe(OPENAI_TEXT);
      expect(parent.connects).toContain(`127.0.0.1:${fake.port}`);

      const tunnel = await connectThrough(tp.proxy.address.port, 'tunnel.example:443');
      const echoed = await new Promise<string>((resolve) => {
        tunnel.once('data', (d: Buffer) => resolve(d.toString()));
        tunnel.write('ping through the parent');
      });
      tunnel.end();
      expect(echoed).toBe('ping through the parent');
      expect(parent.connects).toContain(`127.0.0.1:${(echo.address() as AddressInfo).port}`);

      const body = await new Promise<string>((resolve, reject) => {
        const req = httpRequest({ host: '127.0.0.1', port: tp.proxy.address.port, path: 'http://plain.example/hello', headers: { host: 'plain.example' } }, (r) => {
          let text = '';
          r.on('data', (d: Buffer) => (text += d.toString()));
          r.once('end', () => resolve(text));
        });
        req.once('error', reject);
        req.end();
      });
      expect(body).toBe('plain /hello');
      expect(parent.connects).toContain(`127.0.0.1:${(plain.address() as AddressInfo).port}`);

      const [ex] = await eventually(() => {
        const rows = exported(tp).filter((e) => e.host === 'api.openai.com');
        expect(rows).toHaveLength(1);
        return rows;
      });
      expect([ex!.status, ex!.model]).toEqual([200, 'gpt-4o-mini']);
      await eventually(() => expect(exportedTunnels(tp).map((t) => t.host)).toContain('tunnel.example'));
    } finally {
      await tp.close();
    }
    expect(logs.join('')).not.toContain(PASSWORD);
    expect(logs.join('')).not.toContain(Buffer.from(`corp:${PASSWORD}`).toString('base64'));
  });

  it('an https:// parent: llmtap verifies the parent (--upstream-ca) and the provider inside it', async () => {
    const leafs = new LeafCertificates(fake.ca);
    const tlsParent = await startConnectProxy({ user: 'corp', pass: PASSWORD }, { key: leafs.keyPem, cert: leafs.certificatePemFor('localhost') });
    const tp = await proxyWith(`https://corp:${PASSWORD}@localhost:${tlsParent.port}`);
    try {
      const res = await chat(tp);
      expect(res.status).toBe(200);
      await res.text();
      expect(tlsParent.connects).toEqual([`127.0.0.1:${fake.port}`]);
    } finally {
      await tp.close();
      await tlsParent.close();
    }
  });

  it('--upstream-proxy-env: HTTPS_PROXY carries what NO_PROXY does not list', async () => {
    const saved = { HTTPS_PROXY: process.env.HTTPS_PROXY, NO_PROXY: process.env.NO_PROXY };
    process.env.HTTPS_PROXY = `http://corp:${PASSWORD}@127.0.0.1:${parent.port}`;
    process.env.NO_PROXY = 'tunnel.example';
    const before = parent.connects.length;
    let tp: TestProxy | undefined;
    try {
      tp = await startTestProxy(fake, { upstreamProxyEnv: true, connectTo: rules() });
    } finally {
      for (const [k, v] of Object.entries(saved)) if (v === undefined) delete process.env[k]; else process.env[k] = v;
    }
    try {
      const res = await chat(tp);
      expect(res.status).toBe(200);
      await res.text();
      const tunnel = await connectThrough(tp.proxy.address.port, 'tunnel.example:443');
      tunnel.write('direct');
      await new Promise((r) => tunnel.once('data', r));
      tunnel.end();
      expect(parent.connects.slice(before)).toEqual([`127.0.0.1:${fake.port}`]); // the NO_PROXY host went direct
    } finally {
      await tp.close();
    }
  });

  it('a 407 from the parent is upstream_proxy_auth naming the parent, never the password', async () => {
    const tp = await proxyWith(`http://corp:wrong-${PASSWORD}@127.0.0.1:${parent.port}`);
    try {
      const res = await chat(tp);
      expect(res.status).toBe(502);
      expect(res.headers.get('x-llmtap-error')).toBe('upstream_proxy_auth');
      const text = await res.text();
      expect(text).toContain(`http://127.0.0.1:${parent.port}`);
      expect(text).not.toContain(PASSWORD);
      const answer = await rawConnect(tp.proxy.address.port, 'tunnel.example:443');
      expect(answer).toMatch(/^HTTP\/1\.1 502 /);
      expect(answer).toContain('x-llmtap-error: upstream_proxy_auth');
      expect(answer).toContain(`upstream proxy http://127.0.0.1:${parent.port} refused llmtap's credentials`);
    } finally {
      await tp.close();
    }
    expect(logs.join('')).not.toContain(PASSWORD);
  });

  it('a parent that answers CONNECT with 502 (it cannot reach the provider) is upstream_proxy_refused with its status', async () => {
    const tp = await startTestProxy(fake, { upstreamProxy: `http://corp:${PASSWORD}@127.0.0.1:${parent.port}`, connectTo: [parseConnectTo('api.openai.com:443:127.0.0.1:1')] });
    try {
      const res = await chat(tp);
      expect([res.status, res.headers.get('x-llmtap-error')]).toEqual([502, 'upstream_proxy_refused']);
      expect(await res.text()).toContain(`the upstream proxy http://127.0.0.1:${parent.port} answered 502 to CONNECT 127.0.0.1:1`);
    } finally {
      await tp.close();
    }
  });

  it('a parent that is down is upstream_proxy_unreachable, for calls and tunnels', async () => {
    const down = createServer();
    await new Promise<void>((r) => down.listen(0, '127.0.0.1', r));
    const port = (down.address() as AddressInfo).port;
    await new Promise<void>((r) => down.close(() => r()));
    const tp = await proxyWith(`http://127.0.0.1:${port}`);
    try {
      const res = await chat(tp);
      expect([res.status, res.headers.get('x-llmtap-error')]).toEqual([502, 'upstream_proxy_unreachable']);
      expect(await res.text()).toContain(`upstream proxy http://127.0.0.1:${port}`);
      const answer = await rawConnect(tp.proxy.address.port, 'tunnel.example:443');
      expect(answer).toContain('x-llmtap-error: upstream_proxy_unreachable');
    } finally {
      await tp.close();
    }
  });
});
