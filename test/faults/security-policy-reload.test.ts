/**
 * Fault list #25 for the policy file: a bad file stops the start with one line
 * naming file, line and key; `check-config` says the same without starting; a
 * running proxy keeps its policy when a reload (file change or SIGHUP) finds a bad
 * file, and applies a good one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startCliProxy, type CliProxy } from '../helpers/cli-proxy.js';

const CLI = resolve('dist/cli/main.js');
let fake: FakeProvider;
const children: ChildProcess[] = [];
const dir = mkdtempSync(join(tmpdir(), 'llmtap-policy-'));

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

const BAD = 'rules:\n  - id: a\n    action: deny\n  - id: b\n    match:\n      model: 3\n    action: deny\n';

describe('policy file errors', () => {
  it('FAULT 25: check-config exits 0 with a summary for a good file and 1 with file:line: key: problem for a bad one', async () => {
    const good = join(dir, 'good.yaml');
    writeFileSync(good, 'rules:\n  - {id: a, action: deny, match: {model: "gpt-5*"}}\n');
    const bad = join(dir, 'bad.yaml');
    writeFileSync(bad, BAD);
    const [ok, no] = await Promise.all([run(['check-config', good]), run(['check-config', bad])]);
    expect([ok.code, ok.stdout.trim().split('\n').length, ok.stderr]).toEqual([0, 1, '']);
    expect(ok.stdout).toMatch(/ok, policy with 1 rule /);
    expect([no.code, no.stderr]).toEqual([1, `llmtap: ${bad}:6: rules[1].match.model: must be string or array\n`]);
  });

  it('FAULT 25: start --policy with a bad file stops with one line and check-config\'s exit code (1)', async () => {
    const bad = join(dir, 'bad-start.yaml');
    writeFileSync(bad, 'rules:\n  - id: a\n    action: deny\n    matchh: {}\n');
    const r = await run(['--home', dir, 'start', '--port', '0', '--policy', bad]);
    expect([r.code, r.stdout, r.stderr]).toEqual([1, '', `llmtap: ${bad}:4: rules[0].matchh: unknown key\n`]);
  });
});

/** A request's status through a proxy run by the CLI. */
async function statusThrough(cli: CliProxy, model: string): Promise<number> {
  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${cli.port}`, requestTls: { ca: cli.ca } });
  try {
    const res = await request('https://api.openai.com/v1/chat/completions', { dispatcher: agent, method: 'POST', body: JSON.stringify({ model, messages: [] }), headers: { 'content-type': 'application/json' } });
    await res.body.text();
    return res.statusCode;
  } finally {
    await agent.close();
  }
}

/** The CLI proxy with `status(model)`, stopped when the file's tests end. */
async function startCli(args: string[]) {
  const cli = await startCliProxy(fake, args);
  children.push(cli.child);
  return { ...cli, status: (model: string) => statusThrough(cli, model) };
}

describe('policy reload', () => {
  let cli: Awaited<ReturnType<typeof startCli>>;
  const file = join(dir, 'live.yaml');

  beforeAll(async () => {
    writeFileSync(file, 'rules:\n  - {id: no-gpt5, action: deny, match: {model: gpt-5}}\n');
    cli = await startCli(['--policy', file]);
  });
  afterAll(() => cli?.stop());

  it('FAULT 25: a bad file (on change, then on SIGHUP) keeps the running policy; a good one replaces it', async () => {
    const { logs, waitLog, status, child } = cli;
    expect([await status('gpt-5'), await status('gpt-4o')]).toEqual([403, 200]);
    let before = logs().length;
    writeFileSync(file, BAD);
    const refused = await waitLog(before, 'policy reload refused; keeping the running policy');
    expect([refused.level, refused.err]).toEqual([50, `${file}:6: rules[1].match.model: must be string or array`]);
    before = logs().length;
    child.kill('SIGHUP');
    await waitLog(before, 'policy reload refused; keeping the running policy');
    expect([await status('gpt-5'), await status('gpt-4o')]).toEqual([403, 200]);
    // The web UI's policy page says so too: the reload refused and why, the running policy still the old one.
    type PolicyApi = { policy: { rules: { id: string }[] } | null; refused_reload: { file: string; message: string } | null };
    const page = async (): Promise<PolicyApi> => (await (await fetch(`http://127.0.0.1:${cli.port}/ui/api/policy`)).json()) as PolicyApi;
    expect(await page()).toMatchObject({ policy: { rules: [{ id: 'no-gpt5' }] }, refused_reload: { file, message: `${file}:6: rules[1].match.model: must be string or array` } });
    before = logs().length;
    writeFileSync(file, 'rules:\n  - {id: no-gpt4o, action: deny, match: {model: "gpt-4o*"}}\n');
    await waitLog(before, 'policy reloaded');
    expect([await status('gpt-5'), await status('gpt-4o')]).toEqual([200, 403]);
    expect(await page()).toMatchObject({ policy: { rules: [{ id: 'no-gpt4o' }] }, refused_reload: null });
    expect(child.exitCode).toBeNull();
  });

  it('a reloaded policy with a budget rule an enforced one above it shadows is applied, with a warning naming both', async () => {
    const { logs, waitLog } = cli;
    const before = logs().length;
    writeFileSync(file, 'rules:\n  - {id: all-cap, budget: {usd: 100, period: month, per: user}}\n  - {id: gpt-cap, match: {model: gpt-4o}, budget: {usd: 1, period: day, per: user}}\n');
    await waitLog(before, 'policy reloaded');
    // One line, as check-config prints it: the file, the line, the rule and the one above it.
    const warned = await waitLog(before, `policy: ${file}:3: rules[1]: budget rule "gpt-cap" never applies: the enforced budget rule "all-cap" above it (rules[0]) matches every request it matches (within budgets the first enforced match wins). List it first, or make "all-cap" mode: monitor to count both`);
    expect(warned).toMatchObject({ level: 40 });
  });
});

describe('the policy a config file names, across reloads', () => {
  it('a policy added to the config applies on SIGHUP and is watched from then on; another file replaces it and the old one is no longer read; removing it ends the policy stage', async () => {
    const config = join(dir, 'follow.json');
    const first = join(dir, 'first.yaml');
    const second = join(dir, 'second.yaml');
    writeFileSync(first, 'rules:\n  - {id: no-gpt5, action: deny, match: {model: gpt-5}}\n');
    writeFileSync(second, 'rules:\n  - {id: no-gpt4o, action: deny, match: {model: "gpt-4o*"}}\n');
    writeFileSync(config, JSON.stringify({ logLevel: 'info' }));
    const { logs, waitLog, status, child, stop, port } = await startCli(['--config', config]);
    const pageFile = async (): Promise<string | null | undefined> => ((await (await fetch(`http://127.0.0.1:${port}/ui/api/policy`)).json()) as { policy: { file: string } | null }).policy?.file;
    try {
      expect([await status('gpt-5'), await status('gpt-4o')]).toEqual([200, 200]);
      // Added by a reload, where the proxy started with none.
      let before = logs().length;
      writeFileSync(config, JSON.stringify({ logLevel: 'info', policy: 'first.yaml' }));
      child.kill('SIGHUP');
      await waitLog(before, 'config reloaded');
      expect([await status('gpt-5'), await status('gpt-4o')]).toEqual([403, 200]);
      // ... and watched: an edit applies without a signal.
      before = logs().length;
      writeFileSync(first, 'rules:\n  - {id: no-o3, action: deny, match: {model: "o3*"}}\n');
      expect((await waitLog(before, 'policy reloaded')).file).toBe(first);
      expect([await status('gpt-5'), await status('o3')]).toEqual([200, 403]);
      // Another file: the old one is no longer watched, the new one is.
      before = logs().length;
      writeFileSync(config, JSON.stringify({ logLevel: 'info', policy: 'second.yaml' }));
      child.kill('SIGHUP');
      await waitLog(before, 'config reloaded');
      expect([await status('o3'), await status('gpt-4o')]).toEqual([200, 403]);
      // The policy page names the file now running.
      expect(await pageFile()).toBe(second);
      before = logs().length;
      writeFileSync(first, 'rules:\n  - {id: no-everything, action: deny, match: {model: "*"}}\n');
      writeFileSync(second, 'rules:\n  - {id: no-o3-again, action: deny, match: {model: "o3*"}}\n');
      expect((await waitLog(before, 'policy reloaded')).file).toBe(second);
      expect([await status('gpt-4o'), await status('o3')]).toEqual([200, 403]);
      // Give a late event on the old file its chance: nothing reads it.
      await new Promise((r) => setTimeout(r, 400));
      expect(logs().slice(before).filter((l) => l.msg === 'policy reloaded').map((l) => l.file)).toEqual([second]);
      // No policy key: no policy stage.
      before = logs().length;
      writeFileSync(config, JSON.stringify({ logLevel: 'info' }));
      child.kill('SIGHUP');
      await waitLog(before, 'config reloaded');
      expect([await status('o3'), await status('gpt-5')]).toEqual([200, 200]);
      expect(child.exitCode).toBeNull();
    } finally {
      await stop();
    }
  });
});
