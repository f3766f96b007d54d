/**
 * Fault list #25: a config file with an unknown key, a wrong type or a bad regex is
 * refused at start with one line naming the file, line and key (exit 1, as check-config); a running
 * proxy keeps its config when a reload (SIGHUP) finds a bad file, and applies a
 * good one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashPasswordLine } from '../../src/proxy/auth.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { connectThrough, startTls } from '../helpers/raw-client.js';
import { startCliProxy, type CliProxy } from '../helpers/cli-proxy.js';

const CLI = resolve('dist/cli/main.js');
let fake: FakeProvider;
const children: ChildProcess[] = [];

beforeAll(async () => {
  fake = await startFakeProvider();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null) c.kill('SIGKILL');
  await fake?.close();
});

function run(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((done) => {
    const child = spawn('node', [CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.push(child);
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d: Buffer) => { stdout += d.toString(); });
    child.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
    child.once('exit', (code) => done({ code, stdout, stderr }));
  });
}

describe('config file errors at start', () => {
  it('FAULT 25: unknown key, wrong type, bad regex, invalid JSON → exit 1 (a file that does not load) with one line naming file:line and the key', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'llmtap-cfg-'));
    const cases: Array<[string, string, number, RegExp]> = [
      ['unknown', '{\n  "intercept": ["localhost:11434"],\n  "interceptt": ["x.example"]\n}\n', 3, /unknown key "interceptt"/],
      ['type', '{\n  "failClosed": "yes"\n}\n', 2, /"failClosed" must be a boolean/],
      ['list-type', '{\n  "intercept": ["a.example"],\n  "passthrough": "b.example"\n}\n', 3, /"passthrough" must be an array of strings/],
      ['regex', '{\n  "intercept": [],\n  "redact": ["ok-\\\\d+", "([unclosed"]\n}\n', 3, /"redact": Invalid regular expression/],
      ['rate', '{\n\n\n  "rateLimit": "fast"\n}\n', 4, /"rateLimit": "fast": expected N\/DURATION/],
      ['json', '{\n  "intercept": ["a.example"],\n  "passthrough": [\n}\n', 4, /not valid JSON/],
    ];
    const results = await Promise.all(cases.map(([name, text]) => {
      const file = join(dir, `${name}.json`);
      writeFileSync(file, text);
      return run(['--home', dir, 'start', '--port', '0', '--config', file]);
    }));
    for (const [i, [name, , line, pattern]] of cases.entries()) {
      const r = results[i]!;
      expect(r.code, name).toBe(1);
      const lines = r.stderr.trim().split('\n');
      expect(lines, name).toHaveLength(1);
      expect(lines[0], name).toMatch(new RegExp(`^llmtap: ${join(dir, `${name}.json`).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:${line}: `));
      expect(lines[0], name).toMatch(pattern);
      expect(r.stdout, name).toBe('');
    }
  });
});

describe('reload on SIGHUP', () => {
  let home: string;
  let configFile: string;
  let cli: CliProxy;
  let child: ChildProcess;
  let port = 0;
  let llmtapCa: string;
  const stderr = (): string => cli.stderr();

  beforeAll(async () => {
    home = mkdtempSync(join(tmpdir(), 'llmtap-reload-'));
    configFile = join(home, 'llmtap.json');
    // A monthly budget (monitor: it refuses nothing) that a 7-day retention would let a restart forget.
    writeFileSync(join(home, 'policy.yaml'), 'rules:\n  - {id: monthly, mode: monitor, budget: {usd: 100, period: month, per: user}}\n');
    writeFileSync(configFile, JSON.stringify({ passthrough: ['api.anthropic.com'], retainDays: 7, policy: 'policy.yaml' }, null, 2));
    cli = await startCliProxy(fake, ['--config', configFile], home);
    children.push(cli.child);
    ({ child, port, ca: llmtapCa } = cli);
  });
  afterAll(() => cli?.stop());

  /** Who answers TLS for a host through the proxy: llmtap (intercepted) or the origin (tunnelled). */
  async function whoAnswers(host: string): Promise<'llmtap' | 'origin'> {
    const tunnel = await connectThrough(port, `${host}:443`);
    const tls = await startTls(tunnel, { host, servername: host, ca: [llmtapCa, readFileSync(fake.caFile, 'utf8')] });
    const peer = new X509Certificate(tls.getPeerX509Certificate()!.raw);
    tls.destroy();
    return peer.checkIssued(new X509Certificate(llmtapCa)) ? 'llmtap' : 'origin';
  }

  /** Rewrites the file, sends SIGHUP, waits for the log line that answers it. */
  async function reload(text: string, expected: 'config reloaded' | 'config reload refused'): Promise<Record<string, unknown>> {
    writeFileSync(configFile, text);
    const before = logLines().length;
    child.kill('SIGHUP');
    const deadline = Date.now() + 5000;
    for (;;) {
      const line = logLines().slice(before).find((l) => typeof l.msg === 'string' && (l.msg.startsWith('config reload') || l.msg === 'config reloaded'));
      if (line) {
        expect(line.msg).toContain(expected);
        return line;
      }
      if (Date.now() > deadline) throw new Error(`no reload log line; stderr: ${stderr()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  function logLines(): Array<Record<string, unknown>> {
    return cli.logs();
  }

  async function chat(host: string): Promise<number> {
    const agent = new ProxyAgent({ uri: `http://127.0.0.1:${port}`, requestTls: { ca: llmtapCa } });
    try {
      const path = host === 'api.anthropic.com' ? '/v1/messages' : '/v1/chat/completions';
      const res = await request(`https://${host}${path}`, { dispatcher: agent, method: 'POST', body: '{"model":"m","max_tokens":5,"messages":[]}', headers: { 'content-type': 'application/json' } });
      await res.body.text();
      return res.statusCode;
    } finally {
      await agent.close();
    }
  }

  it('warnings about the config file\'s values name its file:line, as its errors and the policy\'s warnings do', async () => {
    const line = await cli.waitLog(0, `policy: ${configFile}:5: retainDays 7 deletes exchanges before the month of budget rule "monthly" is over: after a restart, or a reload that seeds the rule again, it counts only the spend of the last 7 days (budgets start from the archive); keep retainDays at least 31 for a month`);
    expect(line.level).toBe(40);
  });

  it('FAULT 25: a bad reload is refused and logged; the running config stays; a good one applies', async () => {
    expect(await whoAnswers('api.anthropic.com')).toBe('origin');
    expect(await whoAnswers('api.openai.com')).toBe('llmtap');

    // Wrong type, unknown key, bad regex, broken JSON: each refused, nothing changes.
    const bad = [
      [JSON.stringify({ passthrough: 'api.openai.com' }, null, 2), /"passthrough" must be an array of strings/],
      [JSON.stringify({ passthrough: ['api.openai.com'], rateLimitt: '1/1m' }, null, 2), /unknown key "rateLimitt"/],
      [JSON.stringify({ passthrough: ['api.openai.com'], redact: ['(bad'] }, null, 2), /"redact": Invalid regular expression/],
      ['{\n  "passthrough": ["api.openai.com"],\n', /not valid JSON/],
    ] as const;
    for (const [text, pattern] of bad) {
      const line = await reload(text, 'config reload refused');
      expect(String(line.err)).toMatch(pattern);
      expect(String(line.err)).toContain(`${configFile}:`);
      expect(line.level).toBe(50); // error
    }
    expect(child.exitCode).toBeNull();
    expect(await whoAnswers('api.anthropic.com')).toBe('origin');
    expect(await whoAnswers('api.openai.com')).toBe('llmtap');
    expect(await chat('api.openai.com')).toBe(200);
    expect(await chat('api.openai.com')).toBe(200); // no rate limit from the refused files

    // A good file: passthrough moves to OpenAI, and a rate limit appears.
    await reload(JSON.stringify({ passthrough: ['api.openai.com'], rateLimit: '1/1m' }, null, 2), 'config reloaded');
    expect(await whoAnswers('api.openai.com')).toBe('origin');
    expect(await whoAnswers('api.anthropic.com')).toBe('llmtap');
    expect(await chat('api.anthropic.com')).toBe(200);
    expect(await chat('api.anthropic.com')).toBe(429);

    // Settings the running proxy cannot take are named: they wait for a restart.
    const before = logLines().length;
    await reload(JSON.stringify({ passthrough: ['api.openai.com'], rateLimit: '1/1m', metrics: true, retainDays: 7 }, null, 2), 'config reloaded');
    const deadline = Date.now() + 5000;
    let waiting: Record<string, unknown> | undefined;
    while (!waiting && Date.now() < deadline) {
      waiting = logLines().slice(before).find((l) => typeof l.msg === 'string' && l.msg.startsWith('changed settings that apply only after a restart'));
      if (!waiting) await new Promise((r) => setTimeout(r, 20));
    }
    expect(waiting).toMatchObject({ level: 40, keys: expect.arrayContaining(['metrics', 'retainDays']) });
    expect((waiting!.keys as string[]).length).toBe(2);

    // A uiAdmins name no proxy user has: warned about with the key's file:line.
    writeFileSync(join(home, 'users.txt'), `${await hashPasswordLine('alice', 'pw')}\n`);
    const users = logLines().length;
    await reload(`{\n  "passthrough": ["api.openai.com"],\n  "authFile": "users.txt",\n  "uiAdmins": ["Alice"]\n}\n`, 'config reloaded');
    await cli.waitLog(users, `${configFile}:4: uiAdmins: "Alice" is not one of the proxy users (names are compared exactly): nobody by that name sees everything in the web UI or may scrape /metrics`);
  });
});
