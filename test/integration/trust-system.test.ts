import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEBIAN_ANCHOR } from '../../src/trust/plan.js';
import { exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const run = promisify(execFile);
const CLI = resolve('dist/cli/main.js');

/**
 * `llmtap trust` for real: it writes this machine's system store, so it runs only as
 * root on Debian (CI's container) and never over an llmtap anchor already there.
 */
const why = process.getuid?.() !== 0 ? 'not root'
  : !existsSync('/usr/sbin/update-ca-certificates') ? 'no update-ca-certificates (not Debian/Ubuntu)'
  : existsSync(DEBIAN_ANCHOR) ? `${DEBIAN_ANCHOR} already exists (a real install's; left alone)`
  : undefined;
if (why) console.warn(`skipping llmtap trust system-store test: ${why}`);

describe.skipIf(why !== undefined)('llmtap trust on the Debian system store', () => {
  let fake: FakeProvider;
  let tp: TestProxy;
  const env = { PATH: process.env.PATH ?? '' }; // no CURL_CA_BUNDLE / SSL_CERT_FILE: curl's default, the system bundle
  const curl = () => run('curl', ['-sS', '--fail', '--proxy', tp.url, '-H', 'content-type: application/json', '-d', '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}', 'https://api.openai.com/v1/chat/completions'], { env });

  beforeAll(async () => {
    fake = await startFakeProvider();
    tp = await startTestProxy(fake);
  });
  afterAll(async () => {
    // Whatever happened above, the machine's store goes back to how it was.
    if (existsSync(DEBIAN_ANCHOR)) await run('node', [CLI, 'trust', '--remove', '--home', tp.home]).catch(() => undefined);
    await tp.close();
    await fake.close();
  });

  it('plain curl fails before, succeeds and is recorded after trust, fails again after --remove', async () => {
    await expect(curl()).rejects.toThrow(/certificate/i);
    const trusted = await run('node', [CLI, 'trust', '--home', tp.home]);
    expect(trusted.stdout).toMatch(/^trusted llmtap CA [0-9a-f]{8} \(SHA-256/);
    expect(existsSync(DEBIAN_ANCHOR)).toBe(true);
    const { stdout } = await curl();
    expect(JSON.parse(stdout)).toHaveProperty('choices');
    const recorded = exported(tp).filter((e) => e.path === '/v1/chat/completions');
    expect(recorded.length).toBe(1);
    expect(recorded[0]?.model).toBe('gpt-4o-mini');
    expect(recorded[0]?.usage.output_tokens).toBeGreaterThan(0);

    await run('node', [CLI, 'trust', '--remove', '--home', tp.home]);
    expect(existsSync(DEBIAN_ANCHOR)).toBe(false);
    await expect(curl()).rejects.toThrow(/certificate/i);
  });
});
