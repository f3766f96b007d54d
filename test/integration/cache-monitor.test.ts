import { execFile } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadPolicyText } from '../../src/policy/load.js';
import { exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * A cache rule in `mode: monitor` decides and records, and changes nothing the client
 * gets: a request it would have answered from the cache goes upstream and comes back as
 * the provider sent it, with no `x-llmtap-cache` header, as through a proxy without policy.
 */
const MONITOR = 'rules:\n  - {id: watch, mode: monitor, cache: {ttl: 10m}}\n';

let fake: FakeProvider;
let watched: TestProxy;
let plain: TestProxy;

beforeAll(async () => {
  fake = await startFakeProvider();
  watched = await startTestProxy(fake, { home: mkdtempSync(join(tmpdir(), 'llmtap-cache-monitor-')), policy: loadPolicyText(MONITOR, 'policy.yaml') });
  plain = await startTestProxy(fake);
});
afterAll(async () => {
  await watched?.close();
  await plain?.close();
  await fake?.close();
});

const BODY = JSON.stringify({ model: 'gpt-4o-mini', temperature: 0, messages: [{ role: 'user', content: 'what is 2+2?' }] });

async function ask(tp: TestProxy, body = BODY): Promise<{ status: number; names: string[]; body: string }> {
  const res = await request('https://api.openai.com/v1/chat/completions', {
    method: 'POST', dispatcher: tp.agent, body,
    headers: { 'content-type': 'application/json', authorization: 'Bearer sk-test-monitor-0123456789abcdef' },
  });
  const names = Object.keys(res.headers).sort();
  return { status: res.statusCode, names, body: await res.body.text() };
}

describe('a monitor cache rule', () => {
  it('forwards a request it would have answered, and the client gets what a proxy without policy gives', async () => {
    const before = fake.seen.length;
    const first = await ask(watched);
    const second = await ask(watched);
    const reference = await ask(plain);
    expect(fake.seen.length).toBe(before + 3);
    for (const r of [first, second]) {
      expect(r.names).not.toContain('x-llmtap-cache');
      expect(r).toEqual(reference);
    }
    // Streamed too: no header on the would-be hit either.
    const streamed = JSON.stringify({ ...JSON.parse(BODY), stream: true });
    const a = await ask(watched, streamed);
    const b = await ask(watched, streamed);
    expect([a.names.includes('x-llmtap-cache'), b.names.includes('x-llmtap-cache')]).toEqual([false, false]);
    expect(b.body).toBe(a.body);
  });

  it('records the would-be hit on the exchange: export and show say so, and the exchange is paid as forwarded', async () => {
    const rows = exported(watched).filter((r) => r.path === '/v1/chat/completions');
    const cache = rows.map((r) => (r.policy as { decisions: { kind: string; action: string; enforced: boolean }[] }).decisions.find((d) => d.kind === 'cache'));
    expect(cache.map((d) => [d?.action, d?.enforced])).toEqual([['miss', false], ['hit', false], ['miss', false], ['hit', false]]);
    expect(rows[1]!.cost_usd).not.toBe(0);
    const show = (await promisify(execFile)(process.execPath, ['dist/cli/main.js', '--home', watched.home, 'show', rows[1]!.id as string])).stdout;
    expect(show).toMatch(/monitor: watch · cache hit · key [0-9a-f]{16}, \d+s old · would have answered from the cache; forwarded/);
  });
});
