/**
 * A failure nothing in the proxy caught. Node 20 ends the process on an unhandled
 * rejection, which for a proxy every tool sends through is an outage for all of them:
 * llmtap logs it (redacted), counts it as `internal` and goes on serving. An uncaught
 * synchronous exception is logged and flushed before the process exits with 1. The
 * fault is real: a module loaded into the CLI-started proxy (NODE_OPTIONS=--import)
 * raises it in that process when sent SIGUSR2.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ProxyAgent, request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startCliProxy, type CliProxy } from '../helpers/cli-proxy.js';

/** Key-shaped text in the failure's message: the log must carry the failure, not the key. */
const SECRET = 'sk-proj-' + 'Q7f2Kp9Lm4Rt8Vx1Zb6Nc3Hd5Jw0Ys2Ue7';
const dir = mkdtempSync(join(tmpdir(), 'llmtap-guard-'));
const FAULT = join(dir, 'fault.mjs');
writeFileSync(FAULT, `process.on('SIGUSR2', () => {
  const error = new Error('injected fault near ${SECRET}');
  if (process.env.LLMTAP_TEST_FAULT === 'throw') setImmediate(() => { throw error; });
  else void Promise.reject(error);
});
`);

let fake: FakeProvider;
const started: CliProxy[] = [];
beforeAll(async () => {
  fake = await startFakeProvider();
});
afterAll(async () => {
  for (const cli of started) await cli.stop();
  await fake?.close();
});

async function startWithFault(kind: 'reject' | 'throw'): Promise<CliProxy> {
  const cli = await startCliProxy(fake, ['--metrics'], undefined, { NODE_OPTIONS: `--import ${pathToFileURL(FAULT).href}`, LLMTAP_TEST_FAULT: kind });
  started.push(cli);
  return cli;
}

async function statusThrough(cli: CliProxy): Promise<number> {
  const agent = new ProxyAgent({ uri: `http://127.0.0.1:${cli.port}`, requestTls: { ca: cli.ca } });
  try {
    const res = await request('https://api.openai.com/v1/chat/completions', { dispatcher: agent, method: 'POST', body: '{"model":"gpt-4o-mini","messages":[]}', headers: { 'content-type': 'application/json' } });
    await res.body.text();
    return res.statusCode;
  } finally {
    await agent.close();
  }
}

describe('a failure nothing caught', () => {
  it('an unhandled rejection is logged redacted, counted as internal, and the proxy goes on serving', async () => {
    const cli = await startWithFault('reject');
    expect(await statusThrough(cli)).toBe(200);
    const before = cli.logs().length;
    cli.child.kill('SIGUSR2');
    const line = await cli.waitLog(before, 'unhandled rejection: logged, the proxy goes on');
    expect(line).toMatchObject({ level: 50, code: 'internal' });
    expect(String(line.err)).toMatch(/^Error: injected fault near \S+\n\s+at /);
    expect(cli.stderr()).not.toContain(SECRET);
    // Still the proxy it was: serving, and the failure visible to monitoring.
    expect(await statusThrough(cli)).toBe(200);
    expect(cli.child.exitCode).toBeNull();
    const metrics = await (await fetch(`http://127.0.0.1:${cli.port}/metrics`)).text();
    expect(metrics).toMatch(/^llmtap_errors_total\{code="internal"\} 1$/m);
  });

  it('an uncaught exception is logged redacted and flushed, then the process exits 1', async () => {
    const cli = await startWithFault('throw');
    const exited = new Promise<number | null>((done) => cli.child.once('exit', (code) => done(code)));
    cli.child.kill('SIGUSR2');
    expect(await exited).toBe(1);
    const line = cli.logs().find((l) => l.msg === 'uncaught exception: exiting');
    expect(line).toMatchObject({ level: 60, code: 'internal' });
    expect(String(line?.err)).toMatch(/^Error: injected fault near /);
    expect(cli.stderr()).not.toContain(SECRET);
  });
});
