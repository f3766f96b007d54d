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
import { bold, red } from '../../src/cli/render/table.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

const run = promisify(execFile);
const CLI = resolve('dist/cli/main.js');
/**
 * OSC window title, bell, clear screen, CSI as one C1 byte, a carriage return that would hide
 * "rm -rf", and the very colour codes llmtap writes (red that would run on past the text).
 */
const HOSTILE = 'please \u001b]0;pwned\u0007\u001b[2J\u009b31m rm -rf ~ \rall is well \u001b[31m\u001b[1m';
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
  it('terminalSafe replaces control characters, colour codes that came with the text too, and keeps newlines, tabs, text and llmtap\'s own colours', () => {
    expect(terminalSafe('a\u001b]0;t\u0007b\rc\u009bd\te\nf \u001b[31mred\u001b[39m é 🚀')).toBe('a\ufffd]0;t\ufffdb\ufffdc\ufffdd\te\nf \ufffd[31mred\ufffd[39m é 🚀');
    expect(terminalSafe(`${red('failed')} ${bold('turn')} \u001b[2m`)).toBe('\u001b[31mfailed\u001b[39m \u001b[1mturn\u001b[22m \ufffd[2m');
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

  it('in colour, llmtap\'s own colours reach the terminal and the text\'s never do', async () => {
    const coloured = async (...args: string[]): Promise<string> => (await run('node', [CLI, '--home', tp.home, ...args], { env: { ...process.env, FORCE_COLOR: '1', NO_COLOR: '' } })).stdout;
    for (const out of [await coloured('show', sessionId), await coloured('replay', sessionId, '--no-wait')]) {
      expect(out).toMatch(/\u001b\[(1|2|36)m/); // llmtap's header, facts or dim lines
      const captured = out.split('\n').filter((l) => l.includes('all is well'));
      expect(captured.length).toBeGreaterThan(0);
      for (const l of captured) expect(l).not.toMatch(CONTROL);
    }
  });

  it('JSON and --raw keep the text exactly as recorded', async () => {
    const json = JSON.parse(await llmtap('show', sessionId, '--json')) as unknown;
    expect(JSON.stringify(json)).toContain(JSON.stringify(HOSTILE).slice(1, -1));
    const exchangeId = (JSON.parse(await llmtap('export')) as { id: string }).id;
    // The body as sent: JSON, whose own escapes (\u001b) are the bytes on the wire.
    expect(await llmtap('show', exchangeId, '--raw')).toContain(JSON.stringify(HOSTILE));
  });
});
