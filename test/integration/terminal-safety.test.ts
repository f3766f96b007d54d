/**
 * Captured text printed by the read-side commands can never drive the terminal: a prompt
 * (or an answer steered by prompt injection) holding escape sequences — set the window
 * title, clear the screen, a carriage return hiding the start of a line — is shown with
 * those characters replaced, in show, replay, sessions, search and tail. JSON and
 * `show --raw` stay as recorded.
 */
import { execFile, spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { terminalSafe } from '../../src/cli/render/format.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const run = promisify(execFile);
const CLI = resolve('dist/cli/main.js');
/** OSC window title, bell, clear screen, CSI as one C1 byte, and a carriage return that would hide "rm -rf". */
const HOSTILE = 'please \u001b]0;pwned\u0007\u001b[2J\u009b31m rm -rf ~ \rall is well';
/** Any control character but newline: none may reach the terminal. */
const CONTROL = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/;

let fake: FakeProvider;
let tp: TestProxy;
let sessionId: string;

const llmtap = async (...args: string[]): Promise<string> => (await run('node', [CLI, '--home', tp.home, ...args])).stdout;

beforeAll(async () => {
  fake = await startFakeProvider();
  tp = await startTestProxy(fake);
  const res = await request('https://api.openai.com/v1/chat/completions', {
    method: 'POST', dispatcher: tp.agent, headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ model: 'gpt-4o-mini', messages: [{ role: 'user', content: HOSTILE }] }),
  });
  await res.body.text();
  tp.proxy.recorder.flush();
  sessionId = (JSON.parse(await llmtap('sessions', '--json')) as { id: string }[])[0]!.id;
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

describe('captured text on a terminal', () => {
  it('terminalSafe replaces control characters, keeps newlines, tabs, text and llmtap\'s own colours', () => {
    expect(terminalSafe('a\u001b]0;t\u0007b\rc\u009bd\te\nf \u001b[31mred\u001b[39m é 🚀')).toBe('a\ufffd]0;t\ufffdb\ufffdc\ufffdd\te\nf \u001b[31mred\u001b[39m é 🚀');
  });

  it('show, search, sessions and tail print the text without its control characters', async () => {
    const shown = await llmtap('show', sessionId);
    expect(shown).toContain('rm -rf ~');
    expect(shown).not.toMatch(CONTROL);
    const found = await llmtap('search', 'rm -rf');
    expect(found).toContain(sessionId);
    expect(found).not.toMatch(CONTROL);
    expect(await llmtap('sessions')).not.toMatch(CONTROL);
    const replayed = await llmtap('replay', sessionId, '--no-wait');
    expect(replayed).toContain('rm -rf ~');
    expect(replayed).not.toMatch(CONTROL);
    const tail = spawn('node', [CLI, '--home', tp.home, 'tail', '--all', '--interval', '20'], { stdio: ['ignore', 'pipe', 'ignore'] });
    const line = await new Promise<string>((done) => tail.stdout.once('data', (d: Buffer) => done(d.toString())));
    tail.kill('SIGINT');
    expect(line).not.toMatch(CONTROL);
  });

  it('JSON and --raw keep the text exactly as recorded', async () => {
    const json = JSON.parse(await llmtap('show', sessionId, '--json')) as unknown;
    expect(JSON.stringify(json)).toContain(JSON.stringify(HOSTILE).slice(1, -1));
    const exchangeId = (JSON.parse(await llmtap('export')) as { id: string }).id;
    // The body as sent: JSON, whose own escapes (\u001b) are the bytes on the wire.
    expect(await llmtap('show', exchangeId, '--raw')).toContain(JSON.stringify(HOSTILE));
  });
});
