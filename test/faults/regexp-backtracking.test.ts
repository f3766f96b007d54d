/**
 * An operator's pattern with nested quantifiers (`(a+)+$`) in `--redact` or a policy's
 * redact `patterns`, and a client whose prompt makes it backtrack exponentially: the
 * proxy (its own process here, so a stopped event loop cannot stop the test) answers
 * that request and the next ones within seconds instead of hanging every client.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startCliProxy, type CliProxy } from '../helpers/cli-proxy.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';

let fake: FakeProvider;
let cli: CliProxy;
let agent: ProxyAgent;

beforeAll(async () => {
  fake = await startFakeProvider();
  const dir = mkdtempSync(join(tmpdir(), 'llmtap-redos-'));
  const policy = join(dir, 'policy.yaml');
  writeFileSync(policy, 'rules:\n  - {id: tickets, redact: {patterns: [{name: evil, regex: "(b+)+$"}]}}\n');
  cli = await startCliProxy(fake, ['--policy', policy, '--redact', '(a+)+$']);
  agent = new ProxyAgent({ uri: `http://127.0.0.1:${cli.port}`, requestTls: { ca: cli.ca }, headersTimeout: 20_000, bodyTimeout: 20_000 });
});
afterAll(async () => {
  await agent?.close();
  await cli?.stop();
  await fake?.close();
});

async function chat(content: string): Promise<number> {
  const res = await request('https://api.openai.com/v1/chat/completions', {
    method: 'POST', dispatcher: agent, headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content }] }),
  });
  await res.body.text();
  return res.statusCode;
}

describe('patterns that backtrack exponentially', () => {
  it('a prompt crafted against --redact and a policy pattern is answered, and so are the requests after it', async () => {
    // 2^45 steps each for a backtracking engine: hours, with every other client waiting.
    const started = Date.now();
    const answers = await Promise.all([chat(`${'a'.repeat(45)}!`), chat(`${'b'.repeat(45)}!`), chat('hello')]);
    expect(answers).toEqual([200, 200, 200]);
    expect(Date.now() - started).toBeLessThan(15_000);
    expect(await chat('and after')).toBe(200);
  }, 30_000);
});
