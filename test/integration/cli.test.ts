import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OPENAI_TEXT, startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';

const run = promisify(execFile);
const CLI = resolve('dist/cli/main.js');

/** Secrets a tool would send; none may reach the archive or the logs. */
const SECRETS = {
  bearer: 'sk-proj-PLANTEDbearer0123456789abcdefXYZ',
  xApiKey: 'sk-ant-api03-PLANTEDxapikey0123456789abcdef',
  azureKey: 'PLANTEDazureApiKey0123456789abcdef',
  googKey: 'AIzaPLANTEDgoogKey0123456789abcdefghijk',
  queryKey: 'AIzaPLANTEDqueryKey123456789abcdefghijk',
  cookie: 'PLANTEDcookieValue0123456789',
  proxyAuth: 'UExBTlRFRHByb3h5OnBhc3N3b3Jk',
  inPrompt: 'sk-PLANTEDinPrompt0123456789abcdefghijkl',
};

let fake: FakeProvider;
let home: string;
let proxy: ChildProcess;
let proxyPort = 0;
let stderr = '';

function llmtap(...args: string[]) {
  return run('node', [CLI, '--home', home, ...args]);
}

beforeAll(async () => {
  fake = await startFakeProvider();
  home = mkdtempSync(join(tmpdir(), 'llmtap-cli-'));
  proxy = spawn('node', [CLI, 'start', '--home', home, '--port', '0', '--upstream-ca', fake.caFile,
    '--connect-to', `api.openai.com:443:127.0.0.1:${fake.port}`, '--connect-to', `api.anthropic.com:443:127.0.0.1:${fake.port}`], { stdio: ['ignore', 'pipe', 'pipe'] });
  proxy.stderr!.on('data', (d: Buffer) => { stderr += d.toString(); });
  let stdout = '';
  proxyPort = await new Promise<number>((resolvePort, reject) => {
    proxy.stdout!.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /listening on http:\/\/127\.0\.0\.1:(\d+)/.exec(stdout);
      if (m) resolvePort(Number(m[1]));
    });
    proxy.once('exit', (code) => reject(new Error(`proxy exited ${code}: ${stderr}`)));
  });
});
afterAll(async () => {
  if (proxy.exitCode === null) proxy.kill('SIGKILL');
  await fake?.close();
});

describe('llmtap CLI end to end', () => {
  it('creates the CA with safe permissions and reports its fingerprint', async () => {
    const keyMode = statSync(join(home, 'certs', 'llmtap-ca-key.pem')).mode & 0o777;
    const dirMode = statSync(join(home, 'certs')).mode & 0o777;
    expect([keyMode, dirMode]).toEqual([0o600, 0o700]);
    const { stdout } = await llmtap('ca');
    expect(stdout).toMatch(/llmtap-ca\.pem\nSHA-256 ([0-9A-F]{2}:){31}[0-9A-F]{2}\n/);
    const der = join(home, 'ca.der');
    await llmtap('ca', '--der', der);
    expect(readFileSync(der)[0]).toBe(0x30); // a DER SEQUENCE
    const json = JSON.parse((await llmtap('ca', '--json')).stdout) as Record<string, unknown>;
    expect(json).toMatchObject({ cert: join(home, 'certs', 'llmtap-ca.pem'), sha256: /^([0-9A-F]{2}:){31}[0-9A-F]{2}$/.exec(stdout.split('SHA-256 ')[1]!.trim())![0], created: false });
    expect(json.subject).toMatch(/llmtap/);
    expect(Date.parse(json.notAfter as string)).toBeGreaterThan(Date.now());
    expect(Date.parse(json.notBefore as string)).toBeLessThanOrEqual(Date.now());
    const both = await llmtap('ca', '--json', '--der', '-').catch((e: { stderr: string; code: number }) => e);
    expect(both).toMatchObject({ code: 2, stderr: expect.stringContaining('--json and --der - both write to stdout') });
  });

  it('eval "$(llmtap env)" is enough for curl; secrets stay out of the archive and logs', async () => {
    const { stdout: env } = await llmtap('env', '--port', String(proxyPort));
    expect(env).toContain(`export HTTPS_PROXY='http://127.0.0.1:${proxyPort}'`);
    expect(env).toMatch(/export NODE_EXTRA_CA_CERTS='.*llmtap-ca\.pem'/);
    expect(env).toMatch(/export SSL_CERT_FILE='.*trust-bundle\.pem'/);
    const body = JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: `my key is ${SECRETS.inPrompt}` }] });
    const script = `eval "$(node '${CLI}' --home '${home}' env --port ${proxyPort})"
      curl -sS --fail-with-body -A cli-e2e 'https://api.openai.com/v1/chat/completions?key=${SECRETS.queryKey}' \\
        -H 'content-type: application/json' -H 'Authorization: Bearer ${SECRETS.bearer}' -H 'x-api-key: ${SECRETS.xApiKey}' \\
        -H 'api-key: ${SECRETS.azureKey}' -H 'x-goog-api-key: ${SECRETS.googKey}' -H 'Cookie: session=${SECRETS.cookie}' \\
        -H 'Proxy-Authorization: Basic ${SECRETS.proxyAuth}' -d '${body}'`;
    const { stdout } = await run('bash', ['-c', script]);
    expect(JSON.parse(stdout).choices[0].message.content).toBe(OPENAI_TEXT);
  });

  it('SIGTERM lets an in-flight stream finish, flushes, exits 0; export has every exchange', async () => {
    fake.eventGapMs = 40;
    const curl = run('curl', ['-sS', '-N', '-A', 'cli-e2e-stream', '--proxy', `http://127.0.0.1:${proxyPort}`, '--cacert', join(home, 'certs', 'llmtap-ca.pem'),
      'https://api.anthropic.com/v1/messages', '-H', 'content-type: application/json', '-d', '{"model":"claude-sonnet-4-5","max_tokens":50,"stream":true,"messages":[]}']);
    await new Promise((r) => setTimeout(r, 150));
    const exited = new Promise<number | null>((r) => proxy.once('exit', (code) => r(code)));
    proxy.kill('SIGTERM');
    const { stdout } = await curl;
    expect(stdout).toContain('event: message_stop');
    expect(await exited).toBe(0);
    fake.eventGapMs = 0;

    const { stdout: jsonl } = await llmtap('export', '--format', 'jsonl');
    const records = jsonl.trim().split('\n').map((l) => JSON.parse(l) as Record<string, any>);
    expect(records.map((r) => [r.client.user_agent, r.host, r.status, r.outcome])).toEqual([
      ['cli-e2e', 'api.openai.com', 200, 'completed'],
      ['cli-e2e-stream', 'api.anthropic.com', 200, 'completed'],
    ]);
    const [first, second] = records;
    for (const key of ['id', 'started_at', 'host', 'method', 'path', 'status', 'provider', 'model', 'stream', 'usage', 'ttfb_ms', 'duration_ms', 'outcome', 'request', 'response']) {
      expect(first).toHaveProperty(key);
    }
    expect(first!.usage).toMatchObject({ input_tokens: 11, output_tokens: 17 });
    expect(second!.usage).toMatchObject({ input_tokens: 21, output_tokens: 9 });
    expect(second!.duration_ms).toBeGreaterThan(300); // the stream really was in flight at SIGTERM

    // No secret in the database, its WAL/SHM, the export, or the logs.
    const files = ['llmtap.db', 'llmtap.db-wal', 'llmtap.db-shm'].map((f) => join(home, f)).filter(existsSync);
    const haystacks = [...files.map((f) => readFileSync(f)), Buffer.from(jsonl), Buffer.from(stderr)];
    for (const [name, secret] of Object.entries(SECRETS)) {
      for (const hay of haystacks) expect(hay.includes(secret), `${name} found`).toBe(false);
    }
    expect(first!.request.headers.authorization).toBe('[REDACTED]');
    expect(first!.path).toContain('key=[REDACTED]');
    // The logs have one line per exchange with the essentials.
    const lines = stderr.trim().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.msg === 'exchange');
    expect(lines[0]).toMatchObject({ method: 'POST', host: 'api.openai.com', path: '/v1/chat/completions', model: 'gpt-4o-mini', status: 200, in: 11, out: 17 });
  });

  it('export --out FILE writes the same lines as stdout and says how many', async () => {
    const file = join(home, 'export.jsonl');
    const { stdout } = await llmtap('export');
    const { stderr: said } = await llmtap('export', '--out', file);
    expect(readFileSync(file, 'utf8')).toBe(stdout);
    expect(said.trim()).toBe(`llmtap: wrote ${stdout.trim().split('\n').length} records to ${file}`);
    expect((await llmtap('export', '--last', '1', '--out', file)).stderr.trim()).toBe(`llmtap: wrote 1 record to ${file}`);
    // It holds the prompts, like the archive: readable by its owner only, whatever the umask.
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const failed = (await llmtap('export', '--out', join(home, 'no-such-dir', 'x.jsonl')).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(/^llmtap: export failed: ENOENT/);
  });

  it('refuses to start on an archive written by a newer llmtap: one line, exit code 1', async () => {
    const newer = mkdtempSync(join(tmpdir(), 'llmtap-cli-newer-'));
    const db = new Database(join(newer, 'llmtap.db'));
    db.pragma('user_version = 999');
    db.close();
    const err = (await run('node', [CLI, 'start', '--home', newer, '--port', '0']).catch((e: unknown) => e)) as { code: number; stderr: string };
    expect(err.code).toBe(1);
    expect(err.stderr.trim()).toMatch(/^llmtap: cannot start: archive .*llmtap\.db has schema version 999, but this llmtap only knows up to \d+; upgrade llmtap or point it at another archive file$/);
  });

  it('bad arguments: one line on stderr and exit code 2', async () => {
    const said = new Map<string, string>();
    for (const args of [['start', '--port', 'abc'], ['start', '--bogus'], ['nosuch'], ['start', '--connect-to', 'a:b'], ['export', '--format', 'xml'], [], ['show'], ['show', 'a', 'b'], ['stats', '--by', 'policy'], ['sesions', '--json'], ['stats', '--budgets'], ['export', '--format'], ['purge'], ['purge', '--before', '1h', '--dry-runn'], ['policy', 'test']]) {
      const err = (await llmtap(...args).catch((e: unknown) => e)) as { code: number; stderr: string };
      expect(err.code, args.join(' ')).toBe(2);
      expect(err.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1);
      expect(err.stderr, args.join(' ')).toMatch(/^llmtap: /);
      said.set(args.join(' '), err.stderr.trim());
    }
    expect(said.get('export --format xml')).toBe('llmtap: --format "xml": expected one of jsonl, har, csv');
    expect(said.get('show')).toBe('llmtap: show needs <id> (usage: llmtap show <id>)');
    expect(said.get('stats --budgets')).toBe('llmtap: --budgets needs a value');
    expect(said.get('export --format')).toBe('llmtap: --format needs a value');
    expect(said.get('policy test')).toBe('llmtap: policy test needs <file> (usage: llmtap policy test <file>)');
    expect(said.get('purge')).toBe('llmtap: purge: --before is required (llmtap purge --help)');
    expect(said.get('purge --before 1h --dry-runn')).toMatch(/^llmtap: purge: unknown option --dry-runn \(/);
    expect(said.get('show a b')).toMatch(/^llmtap: show: unknown argument "b"/);
    expect(said.get('start --bogus')).toMatch(/^llmtap: start: unknown option --bogus/);
    expect(said.get('sesions --json')).toMatch(/^llmtap: unknown command "sesions"; did you mean sessions\?/);
  });
});
