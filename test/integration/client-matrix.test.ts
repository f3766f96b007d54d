import { execFile, spawn, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer, request, type Server } from 'node:http';
import { createServer as createNetServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';

/**
 * Real clients through `llmtap run` (Python requests and httpx, Node's global fetch)
 * and Chromium through the PAC file, all against the fake provider: each exchange
 * must be in the archive with its model and tokens. The proxy is the one `llmtap run`
 * starts in the background when none listens.
 */
const execFileAsync = promisify(execFile);
const CLI = resolve('dist/cli/main.js');
const CLIENTS = resolve('test/fixtures/clients');

let fake: FakeProvider;
let home: string;
let port = 0;
let firstRun: { code: number | null; stderr: string };
let backgroundPid = 0;

/** Debian's python3 (where python3-requests and python3-httpx live) if it has the module, else the one on PATH. */
function pythonWith(module: string): string | undefined {
  for (const python of ['/usr/bin/python3', 'python3']) {
    if (spawnSync(python, ['-c', `import ${module}`], { stdio: 'ignore' }).status === 0) return python;
  }
  return undefined;
}

function freePort(): Promise<number> {
  return new Promise((done) => {
    const server = createNetServer().listen(0, '127.0.0.1', () => {
      const { port: p } = server.address() as AddressInfo;
      server.close(() => done(p));
    });
  });
}

function llmtapRun(args: string[], options: { env?: NodeJS.ProcessEnv } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn('node', [CLI, '--home', home, 'run', '--port', String(port), ...args], { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.once('exit', (code) => done({ code, stdout, stderr }));
  });
}

interface Row { model: string | null; input_tokens: number | null; output_tokens: number | null; client_label: string | null; user_agent: string | null; method: string }

function rows(where: string, ...params: unknown[]): Row[] {
  const db = new Database(join(home, 'llmtap.db'), { readonly: true, fileMustExist: true });
  try {
    return db.prepare(`SELECT model, input_tokens, output_tokens, client_label, user_agent, method FROM exchanges WHERE ${where}`).all(...params) as Row[];
  } finally {
    db.close();
  }
}

/** The run's exchange, once the writer has it: model and the fake's usage (11 in, 17 out). */
async function recordedWithLabel(label: string, model: string): Promise<void> {
  const [row] = await eventually(() => {
    const found = rows('client_label = ?', label);
    expect(found).toHaveLength(1);
    return found;
  }, 10_000);
  expect(row).toMatchObject({ model, input_tokens: 11, output_tokens: 17, client_label: label });
}

beforeAll(async () => {
  if (!existsSync(CLI)) throw new Error('run "npm run build" first: these tests drive dist/cli/main.js');
  fake = await startFakeProvider();
  home = mkdtempSync(join(tmpdir(), 'llmtap-matrix-'));
  port = await freePort();
  // What the background proxy runs with: the provider hosts lead to the fake, whose CA it trusts.
  const config = join(home, 'proxy.json');
  writeFileSync(config, JSON.stringify({ upstreamCa: [fake.caFile], connectTo: ['api.openai.com', 'api.anthropic.com'].map((h) => `${h}:443:127.0.0.1:${fake.port}`) }));
  firstRun = await llmtapRun(['--config', config, '--', 'node', '-e', 'process.exit(0)']);
  backgroundPid = Number(/started one in the background \(pid (\d+)/.exec(firstRun.stderr)?.[1] ?? 0);
}, 30_000);

afterAll(async () => {
  if (backgroundPid) process.kill(backgroundPid, 'SIGTERM');
  await fake?.close();
});

describe('llmtap run', () => {
  it('starts a proxy in the background when none listens, and says where its log is', () => {
    expect(firstRun.code).toBe(0);
    expect(firstRun.stderr).toMatch(new RegExp(`no proxy on 127\\.0\\.0\\.1:${port}; started one in the background \\(pid \\d+, log .*llmtap-${port}\\.log\\)`));
    expect(backgroundPid).toBeGreaterThan(0);
  });

  it('Python requests, configured only by the environment, is captured with model and tokens', async (ctx) => {
    const python = pythonWith('requests');
    if (!python) return ctx.skip('python3 with requests is not installed (apt-get install python3-requests)');
    const result = await llmtapRun(['--label', 'py-requests', '--', python, join(CLIENTS, 'openai-requests.py')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^200 /);
    await recordedWithLabel('py-requests', 'gpt-4o-mini');
  }, 30_000);

  it('Python httpx is captured with model and tokens', async (ctx) => {
    const python = pythonWith('httpx');
    if (!python) return ctx.skip('python3 with httpx is not installed (apt-get install python3-httpx)');
    const result = await llmtapRun(['--label', 'py-httpx', '--', python, join(CLIENTS, 'openai-httpx.py')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    await recordedWithLabel('py-httpx', 'gpt-4.1-nano');
  }, 30_000);

  it('Node 20 global fetch (which ignores HTTPS_PROXY) is captured through the preload', async () => {
    const result = await llmtapRun(['--label', 'node fetch', '--', 'node', join(CLIENTS, 'openai-fetch.mjs')]);
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    await recordedWithLabel('node fetch', 'gpt-4o');
  }, 30_000);

  it('sessions and stats --by label show the labels', async () => {
    await eventually(() => expect(rows('client_label IS NOT NULL').length).toBeGreaterThanOrEqual(1), 10_000);
    const { stdout } = await execFileAsync('node', [CLI, '--home', home, 'stats', '--by', 'label', '--json']);
    const labels = (JSON.parse(stdout) as Array<{ label: string | null }>).map((r) => r.label);
    expect(labels).toContain('node fetch');
    const sessions = JSON.parse((await execFileAsync('node', [CLI, '--home', home, 'sessions', '--json'])).stdout) as Array<{ label: string | null }>;
    expect(sessions.map((s) => s.label)).toContain('node fetch');
  }, 30_000);

  it('passes the exit code through and forwards SIGTERM to the child', async () => {
    expect((await llmtapRun(['--', 'node', '-e', 'process.exit(7)'])).code).toBe(7);
    const child = spawn('node', [CLI, '--home', home, 'run', '--port', String(port), '--', 'node', '-e',
      "process.on('SIGTERM', () => { console.log('child got SIGTERM'); process.exit(5); }); console.log('ready'); setInterval(() => {}, 1000);"], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    await new Promise<void>((ready) => child.stdout.on('data', (d: Buffer) => { out += d.toString(); if (out.includes('ready')) ready(); }));
    child.kill('SIGTERM');
    const code = await new Promise<number | null>((done) => child.once('exit', (c) => done(c)));
    expect(out).toContain('child got SIGTERM');
    expect(code).toBe(5);
  }, 30_000);

  it('refuses to run against a port something else holds, rather than starting a second proxy', async () => {
    const other = createServer((_req, res) => res.writeHead(404).end('not llmtap'));
    await new Promise<void>((r) => other.listen(0, '127.0.0.1', r));
    const otherPort = (other.address() as AddressInfo).port;
    try {
      const result = await new Promise<{ code: number | null; stderr: string }>((done) => {
        const child = spawn('node', [CLI, '--home', home, 'run', '--port', String(otherPort), '--', 'true'], { stdio: ['ignore', 'ignore', 'pipe'] });
        let stderr = '';
        child.stderr.on('data', (d: Buffer) => { stderr += d.toString(); });
        child.once('exit', (code) => done({ code, stderr }));
      });
      expect(result).toEqual({ code: 1, stderr: `llmtap: 127.0.0.1:${otherPort} is taken by something that is not llmtap; pick another --port\n` });
    } finally {
      other.close();
    }
  }, 30_000);

  it('refuses a label that could not travel as a proxy user, naming the flag', async () => {
    const result = await llmtapRun(['--label', 'a:b', '--', 'true']);
    expect(result.code).toBe(2);
    expect(result.stderr.trim()).toBe('llmtap: --label cannot hold control characters or ":"');
  });
});

describe('llmtap env', () => {
  it('spares intercepted loopback hosts in NO_PROXY, exports NODE_USE_ENV_PROXY, and warns only when no proxy answers', async () => {
    const up = await execFileAsync('node', [CLI, '--home', home, 'env', '--port', String(port), '--intercept', 'localhost:11434', '--node']);
    expect(up.stdout).toContain("export NO_PROXY='127.0.0.1,::1'\n");
    expect(up.stdout).toContain("export NODE_USE_ENV_PROXY='1'\n");
    expect(up.stdout).toMatch(/export NODE_OPTIONS='.*--import=file:\/\/.*\/dist\/preload\/fetch-proxy\.js'\n/);
    expect(up.stderr).toBe('');
    const unused = await freePort();
    const down = await execFileAsync('node', [CLI, '--home', home, 'env', '--port', String(unused)]);
    expect(down.stdout).toContain("export NO_PROXY='localhost,127.0.0.1,::1'\n");
    expect(down.stderr).toBe(`llmtap: warning: no proxy is listening on 127.0.0.1:${unused}; start one with "llmtap start --home '${home}' --port ${unused}" (or use "llmtap run --home '${home}' --port ${unused} -- CMD")\n`);
  }, 30_000);
});

describe('Chromium through the PAC file', () => {
  let page: Server;

  afterAll(() => page?.close());

  it('a page calling the provider with fetch is captured', async (ctx) => {
    if (!existsSync('/usr/bin/chromium')) return ctx.skip('Debian chromium is not installed at /usr/bin/chromium (apt-get install chromium)');
    const { chromium } = await import('playwright-core');
    // The page's own origin is local (the PAC sends it DIRECT); its fetch goes to api.openai.com.
    page = createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' });
      res.end(`<!doctype html><title>t</title><script>
        window.result = fetch('https://api.openai.com/v1/chat/completions', { method: 'POST',
          headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test-browser-0123456789abcdef' },
          body: JSON.stringify({ model: 'gpt-4o-browser', messages: [{ role: 'user', content: 'hi from chromium' }] }) })
          .then((r) => r.json()).then((b) => b.usage, (e) => String(e));
      </script>`);
    });
    await new Promise<void>((r) => page.listen(0, '127.0.0.1', r));
    const pagePort = (page.address() as AddressInfo).port;
    const browser = await chromium.launchPersistentContext(mkdtempSync(join(tmpdir(), 'llmtap-chromium-')), {
      executablePath: '/usr/bin/chromium',
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync',
        `--proxy-pac-url=http://127.0.0.1:${port}/proxy.pac`, `--ignore-certificate-errors-spki-list=${await leafSpkiHash()}`],
    });
    try {
      const tab = await browser.newPage();
      await tab.goto(`http://127.0.0.1:${pagePort}/`);
      const usage = await tab.evaluate('window.result');
      expect(usage).toMatchObject({ prompt_tokens: 11, completion_tokens: 17 });
    } finally {
      await browser.close();
    }
    const [row] = await eventually(() => {
      const found = rows("model = 'gpt-4o-browser' AND method = 'POST'");
      expect(found).toHaveLength(1);
      return found;
    }, 10_000);
    expect(row).toMatchObject({ input_tokens: 11, output_tokens: 17 });
    expect(row!.user_agent).toMatch(/Chrome\//);
  }, 90_000);
});

/**
 * The base64 SHA-256 of the SubjectPublicKeyInfo llmtap's leaf certificates carry
 * (one key per proxy process), read from a real handshake through the proxy:
 * what Chromium's --ignore-certificate-errors-spki-list takes.
 */
async function leafSpkiHash(): Promise<string> {
  const socket = await new Promise<import('node:net').Socket>((done, fail) => {
    const req = request({ host: '127.0.0.1', port, method: 'CONNECT', path: 'api.openai.com:443' });
    req.once('connect', (_res, s) => done(s));
    req.once('error', fail);
    req.end();
  });
  const cert = await new Promise<X509Certificate>((done, fail) => {
    const tls = tlsConnect({ socket, servername: 'api.openai.com', rejectUnauthorized: false }, () => {
      done(new X509Certificate(tls.getPeerCertificate().raw));
      tls.destroy();
    });
    tls.once('error', fail);
  });
  const spki = cert.publicKey.export({ type: 'spki', format: 'der' });
  return createHash('sha256').update(spki).digest('base64');
}

