/**
 * The web UI's session view decodes and parses every request body of the session (~0.1 s
 * per 100 turns of an agent session): that must not hold the proxy's event loop (every
 * stream in flight) meanwhile. It runs in the report thread, and answers as before.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SqliteArchiveReader } from '../../src/archive/sqlite-reader.js';
import { sessionJson } from '../../src/cli/sessions.js';
import { paths } from '../../src/config.js';
import { makeExchange } from '../../src/exchange.js';
import { openArchive } from '../../src/recorder/db.js';
import { exchangeToRow } from '../../src/recorder/rows.js';
import { SessionRollup } from '../../src/recorder/session-rollup.js';
import { sessionThreads } from '../../src/sessions/turns.js';
import { threadsJson } from '../../src/sessions/turns-json.js';
import { threadRequestDiffs } from '../../src/ui/server/request-diff.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';
import { claudeCodeSession } from '../unit/agent-session-fixtures.js';

const SESSION = 'long-agent-session';
let fake: FakeProvider;
let tp: TestProxy;
let home: string;

beforeAll(async () => {
  fake = await startFakeProvider();
  home = mkdtempSync(join(tmpdir(), 'llmtap-ui-session-'));
  // One Claude Code session of 120 turns: each request resends the whole conversation (stored as shared parts).
  const archive = openArchive(paths(home).archive);
  const rollup = new SessionRollup(archive.db);
  const start = Date.now() - 3_600_000;
  archive.db.transaction(() => {
    claudeCodeSession(120).forEach((body, turn) => {
      const row = { ...exchangeToRow(makeExchange({ timings: { start: start + turn * 1000, end: start + turn * 1000 + 500 }, outcome: 'completed', provider: 'anthropic', api: 'messages',
        target: { host: 'api.anthropic.com', port: 443, tls: true },
        request: { method: 'POST', path: '/v1/messages', headers: ['content-type', 'application/json'], body: { bytes: body, size: body.length, truncated: false } },
        response: { status: 200, headers: ['content-type', 'application/json'], body: { bytes: Buffer.from('{}'), size: 2, truncated: false } } })), session_id: SESSION, thread_id: 'main', turn: turn + 1 };
      archive.insertExchanges([row]);
      rollup.add(row, { sessionId: SESSION, threadId: 'main', turn: turn + 1 });
    });
  })();
  archive.close();
  tp = await startTestProxy(fake, { home });
}, 120_000);
afterAll(async () => {
  await tp?.close();
  await fake?.close();
  rmSync(home, { recursive: true, force: true });
});

describe('the web UI session view', () => {
  it('reads off the event loop: a proxied request is answered while it decodes, and the answer is what it was', async () => {
    const order: string[] = [];
    const page = request(`${tp.url}/ui/api/sessions/${SESSION}`).then(async (res) => {
      order.push('session');
      return { status: res.statusCode, body: (await res.body.json()) as { threads: unknown[] } };
    });
    // Let the session request reach the proxy and start reading first.
    await new Promise((resolve) => setTimeout(resolve, 30));
    const chat = await request('https://api.openai.com/v1/chat/completions', {
      method: 'POST', dispatcher: tp.agent, headers: { 'content-type': 'application/json' }, body: '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}]}',
    });
    await chat.body.text();
    order.push('chat');
    expect(chat.statusCode).toBe(200);
    const { status, body } = await page;
    expect(order).toEqual(['chat', 'session']);
    expect(status).toBe(200);

    // The same answer as the view read on the event loop gave: `show --json` plus the diffs and the token counts (none here).
    const reader = new SqliteArchiveReader(paths(home).archive, { readonly: true });
    try {
      const detail = reader.session(SESSION)!;
      const expected = { session: sessionJson(detail.session), threads: threadsJson(sessionThreads(detail, { messagesOf: (id) => reader.wsMessages(id) })), diffs: threadRequestDiffs(detail.exchanges), token_counts: 0 };
      expect(body).toEqual(JSON.parse(JSON.stringify(expected)));
      expect(detail.exchanges.length).toBe(120);
    } finally {
      reader.close();
    }
    // A session nobody recorded is still a 404 with its code.
    const missing = await request(`${tp.url}/ui/api/sessions/nope`);
    expect([missing.statusCode, ((await missing.body.json()) as { error: { code: string } }).error.code]).toEqual([404, 'not_found']);
  }, 60_000);
});
