/**
 * The exchange view's "copy as curl", run for real: a request recorded through the
 * proxy from curl, its command taken from the UI's API and run again through the
 * proxy. A body sent compressed is stored decoded (see the archive section), so the
 * command must not claim a Content-Encoding its --data-raw no longer has: a provider
 * would try to inflate plain JSON and refuse it.
 */
import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { parseConnectTo } from '../../src/config.js';
import { FAKE_HOSTS, startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const run = promisify(execFile);
let fake: FakeProvider;
let tp: TestProxy;
let caFile: string;
const GEMINI = 'generativelanguage.googleapis.com';

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake, { connectTo: [...FAKE_HOSTS, GEMINI].map((h) => parseConnectTo(`${h}:443:127.0.0.1:${fake.port}`)) });
  caFile = join(tp.home, 'client-ca.pem');
  writeFileSync(caFile, tp.caPem);
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

/** Records one request sent by curl, and returns the copy-as-curl command the UI offers for it. */
async function recordedCommand(userAgent: string, extraArgs: string[], url = 'https://api.openai.com/v1/chat/completions'): Promise<string> {
  await run('curl', ['-sS', '--fail-with-body', '--proxy', tp.url, '--cacert', caFile, '-A', userAgent, '-H', 'content-type: application/json',
    '-H', 'authorization: Bearer sk-test-curl-0123456789abcdefghij', ...extraArgs, '-o', '/dev/null', url]);
  const id = await eventually(() => {
    const rec = exported(tp).find((e) => e.client.user_agent === userAgent);
    if (!rec) throw new Error('not yet');
    return rec.id;
  });
  const res = await request(`${tp.url}/ui/api/exchanges/${id}`);
  expect(res.statusCode).toBe(200);
  return ((await res.body.json()) as { curl: string }).curl;
}

/** Runs the command as a user would paste it (in a shell, the key in the environment), through the proxy. */
async function runCommand(command: string): Promise<void> {
  await run('sh', ['-c', `${command} \\\n  -sS --fail-with-body -o /dev/null --proxy ${tp.url} --cacert ${caFile}`], { env: { ...process.env, OPENAI_API_KEY: 'sk-test-replayed-0123456789abcdefgh', GEMINI_API_KEY: GEMINI_KEY } });
}

const GEMINI_KEY = 'AIzaSyREPLAYEDreplayedREPLAYED012345678';
const BODY = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"copy me, héllo"}]}';

describe('copy as curl', () => {
  it('a body sent gzip-compressed: the command sends the stored (decoded) body without the Content-Encoding it no longer has', async () => {
    const file = join(tp.home, 'body.json.gz');
    writeFileSync(file, gzipSync(BODY));
    const command = await recordedCommand('curl-copy-gzip', ['-H', 'content-encoding: gzip', '--data-binary', `@${file}`]);
    expect(command).toContain('--data-raw');
    fake.seen.length = 0;
    await runCommand(command);
    expect(fake.seen).toHaveLength(1);
    const sent = fake.seen[0]!;
    expect(sent.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase())).not.toContain('content-encoding');
    expect(JSON.parse(sent.body.toString())).toEqual(JSON.parse(BODY));
  });

  it('a body sent as is: the command re-sends it byte for byte (the setup works)', async () => {
    const command = await recordedCommand('curl-copy-plain', ['--data-raw', BODY]);
    fake.seen.length = 0;
    await runCommand(command);
    expect(fake.seen.map((r) => r.body.toString())).toEqual([BODY]);
  });

  it('a Gemini request keyed by ?key=: the command runs (no curl URL globbing on the stored marker) and sends the key from the environment, not the marker', async () => {
    const body = '{"contents":[{"role":"user","parts":[{"text":"copy me"}]}]}';
    const command = await recordedCommand('curl-copy-gemini', ['--data-raw', body], `https://${GEMINI}/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse&key=AIzaSyORIGINALoriginalORIGINAL0123456789`);
    fake.seen.length = 0;
    await runCommand(command);
    expect(fake.seen).toHaveLength(1);
    const sent = fake.seen[0]!;
    expect(sent.url).toBe('/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse');
    const headers = sent.rawHeaders.filter((_, i) => i % 2 === 0).map((n) => n.toLowerCase());
    expect(sent.rawHeaders[headers.indexOf('x-goog-api-key') * 2 + 1]).toBe(GEMINI_KEY);
    expect(sent.body.toString()).toBe(body);
  });
});
