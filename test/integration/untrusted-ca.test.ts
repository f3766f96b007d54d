import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { PassThrough } from 'node:stream';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/log.js';
import { DOCTOR_HOST } from '../../src/proxy/doctor-echo.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startCliProxy } from '../helpers/cli-proxy.js';
import { connectThrough, exchangeRaw, parseResponse, startTls } from '../helpers/raw-client.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const run = promisify(execFile);

/** A client that does not trust the llmtap CA is named in the log (once), counted, and shown on the status page. */
describe('clients that do not trust the CA', () => {
  let fake: FakeProvider;
  let tp: TestProxy;
  const lines: string[] = [];

  beforeAll(async () => {
    fake = await startFakeProvider();
    const destination = new PassThrough();
    destination.on('data', (c: Buffer) => lines.push(...c.toString().split('\n').filter(Boolean)));
    tp = await startTestProxy(fake, {}, { logger: createLogger({ level: 'info', pretty: false, destination }) });
  });
  afterAll(async () => {
    await tp.close();
    await fake.close();
  });

  const warnings = () => lines.map((l) => JSON.parse(l) as { level: number; msg: string; host?: string; verdict?: string }).filter((l) => l.level === 40 && /llmtap trust/.test(l.msg));
  const status = async () => (await (await request(`${tp.url}/`, { headers: { accept: 'application/json' } })).body.json()) as { untrustedCa: { rejected: number; likelyRejected: number }; refusals: Record<string, number> };
  const until = async (cond: () => boolean | Promise<boolean>) => {
    for (let i = 0; i < 200 && !(await cond()); i++) await new Promise((r) => setTimeout(r, 10));
  };

  /** Node's own client, without the CA: it verifies after the handshake and closes without an alert. */
  async function nodeClientWithoutCa(maxVersion: 'TLSv1.2' | 'TLSv1.3'): Promise<string> {
    const socket = await connectThrough(tp.proxy.address.port, 'api.openai.com:443');
    return new Promise((resolve) => {
      const t = tlsConnect({ socket, servername: 'api.openai.com', maxVersion });
      t.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
      t.once('secureConnect', () => resolve('trusted?'));
    });
  }

  it('node tls.connect without the CA: one warn line naming the host and the fix, every attempt counted', async () => {
    expect(await nodeClientWithoutCa('TLSv1.3')).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    await until(async () => (await status()).untrustedCa.likelyRejected >= 1);
    expect(await nodeClientWithoutCa('TLSv1.2')).toBe('UNABLE_TO_VERIFY_LEAF_SIGNATURE');
    await until(async () => (await status()).untrustedCa.likelyRejected >= 2);
    expect((await status()).untrustedCa.likelyRejected).toBe(2);
    const warned = warnings().filter((w) => w.host === 'api.openai.com');
    expect(warned).toHaveLength(1);
    expect(warned[0]?.msg).toMatch(/llmtap run -- CMD.*llmtap doctor/);
  });

  it('curl without the CA sends unknown_ca: counted as rejected, warned once per host', async () => {
    const plain = () => run('curl', ['-sS', '--proxy', tp.url, 'https://api.anthropic.com/v1/messages'], { env: { PATH: process.env.PATH ?? '', CURL_CA_BUNDLE: '/etc/ssl/certs/ca-certificates.crt' } }).then(() => 'ok', (err: { stderr: string }) => err.stderr);
    expect(await plain()).toMatch(/certificate/i);
    await plain();
    await until(async () => (await status()).untrustedCa.rejected >= 2);
    expect((await status()).untrustedCa.rejected).toBeGreaterThanOrEqual(2);
    expect(warnings().filter((w) => w.host === 'api.anthropic.com' && w.verdict === 'rejected')).toHaveLength(1);
    // A refused CA is a trust problem, not a malformed request: no bad_request counted (an alert on those would fire).
    expect((await status()).refusals.bad_request ?? 0).toBe(0);
  });

  it('llmtap start under another home and port: the warning\'s fix names them (a bare llmtap run or trust points at another CA)', async () => {
    const cli = await startCliProxy(fake, []);
    try {
      await run('curl', ['-sS', '--proxy', `http://127.0.0.1:${cli.port}`, 'https://api.openai.com/'], { env: { PATH: process.env.PATH ?? '', CURL_CA_BUNDLE: '/etc/ssl/certs/ca-certificates.crt' } }).catch(() => undefined);
      const rejected = () => cli.logs().find((l) => l.verdict === 'rejected');
      await until(() => rejected() !== undefined);
      const warned = rejected()!;
      expect(warned).toMatchObject({ level: 40, host: 'api.openai.com' });
      const here = `--home '${cli.home}' --port ${cli.port}`;
      expect(warned.msg).toBe(`a client rejected the llmtap CA certificate (TLS alert): run \`llmtap trust --home '${cli.home}'\` (system store), start the tool with \`llmtap run ${here} -- CMD\`, or see \`llmtap doctor ${here}\``);
    } finally {
      await cli.stop();
    }
  });

  it('a client that trusts the CA and sends requests is not reported', async () => {
    const before = await status();
    const res = await request('https://api.openai.com/v1/chat/completions', { method: 'POST', dispatcher: tp.agent, headers: { 'content-type': 'application/json' }, body: '{"model":"gpt-4o-mini","messages":[]}' });
    await res.body.text();
    const after = await status();
    expect(after.untrustedCa).toEqual(before.untrustedCa);
  });

  it('the status page lists the last exchanges, newest first, paths without their query', async () => {
    const res = await request('https://api.openai.com/v1/chat/completions?key=sk-should-not-show', { method: 'POST', dispatcher: tp.agent, headers: { 'content-type': 'application/json' }, body: '{"model":"gpt-4o","messages":[]}' });
    await res.body.text();
    tp.proxy.recorder.flush();
    const json = (await (await request(`${tp.url}/`, { headers: { accept: 'application/json' } })).body.json()) as { recent: Array<{ host: string; path: string; model: string }> };
    expect(json.recent[0]).toMatchObject({ host: 'api.openai.com', path: '/v1/chat/completions', model: 'gpt-4o' });
    expect(json.recent[1]).toMatchObject({ model: 'gpt-4o-mini' });
    const html = await (await request(`${tp.url}/`, { headers: { accept: 'text/html' } })).body.text();
    expect(html).toContain('api.openai.com/v1/chat/completions');
    expect(html).not.toContain('sk-should-not-show');
  });

  it('the status page offers the CA as PEM and DER, and install instructions', async () => {
    const pem = await request(`${tp.url}/ca.pem`);
    expect(pem.statusCode).toBe(200);
    expect(await pem.body.text()).toBe(tp.caPem);
    const der = await request(`${tp.url}/ca.der`);
    expect(der.headers['content-type']).toBe('application/x-x509-ca-cert');
    expect(Buffer.from(await der.body.arrayBuffer())).toEqual(new X509Certificate(tp.caPem).raw);
    const html = await (await request(`${tp.url}/`, { headers: { accept: 'text/html' } })).body.text();
    expect(html).toContain('href="/ca.der"');
    expect(html).toContain('update-ca-certificates');
    expect(html).toMatch(/did not trust the CA/);
  });

  it(`the proxy answers ${DOCTOR_HOST} itself, through CONNECT and a leaf signed by its CA`, async () => {
    const socket = await connectThrough(tp.proxy.address.port, `${DOCTOR_HOST}:443`);
    const tls = await startTls(socket, { servername: DOCTOR_HOST, host: DOCTOR_HOST, ca: tp.caPem });
    const res = parseResponse(await exchangeRaw(tls, `GET /echo HTTP/1.1\r\nHost: ${DOCTOR_HOST}\r\nConnection: close\r\n\r\n`));
    expect(res.status).toMatch(/^HTTP\/1.1 200/);
    expect(JSON.parse(res.body.toString())).toMatchObject({ llmtap: true, path: '/echo' });
  });
});
