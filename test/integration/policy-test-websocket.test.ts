import { execFile } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { beforeAll, describe, expect, it } from 'vitest';
import { openTls, startFakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy } from '../helpers/start-proxy.js';
import { converse } from '../helpers/ws-conversation.js';
import { eventually, exported } from '../helpers/archive.js';
import { parseConnectTo } from '../../src/config.js';

const CLI = resolve('dist/cli/main.js');
const run = promisify(execFile);
let home: string;

beforeAll(async () => {
  // Two Codex sessions (Responses over WebSocket) recorded through a proxy with no policy.
  const fake = await startFakeWs();
  const tp = await startTestProxy(undefined, { connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile] });
  home = tp.home;
  try {
    for (let i = 0; i < 2; i++) await converse(await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem }));
    // A session is recorded once both of its sockets are gone, a moment after the client's close.
    await eventually(() => {
      const rows = exported(tp);
      expect(rows.map((r) => [r.status, r.model])).toEqual([[101, 'gpt-5-codex'], [101, 'gpt-5-codex']]);
      expect(rows.every((r) => (r.cost_usd as number) > 0)).toBe(true);
    });
  } finally {
    await tp.close();
    await fake.close();
  }
}, 60_000);

describe('llmtap policy test over recorded WebSocket sessions', () => {
  it('replays each Codex session request by request from its message log: the first request spends the budget, the second is refused, the next session at its upgrade', async () => {
    const file = join(home, 'what-if.yaml');
    writeFileSync(file, 'rules:\n  - {id: no-gpt5, mode: monitor, action: deny, match: {model: "gpt-5*"}}\n  - {id: tiny, budget: {usd: 0.000001, period: day, per: user}}\n');
    const json = JSON.parse((await run(process.execPath, [CLI, '--home', home, 'policy', 'test', file, '--json'])).stdout) as { exchanges: number; websocket_sessions: number; session_requests: number; totals: { blocked_by: Record<string, number>; saved_tokens: number }; rules: { rule: string; action: string; requests: number; saved_tokens: number }[] };
    expect([json.exchanges, json.websocket_sessions, json.session_requests]).toEqual([2, 2, 4]);
    // Session 1: its first request spent the day's budget, its second is refused; session 2 is refused at its upgrade.
    expect(json.totals.blocked_by).toEqual({ budget_exceeded: 2 });
    // The monitored access rule judged each request of session 1 by the model it named (gpt-5-codex).
    expect(json.rules.map((r) => [r.rule, r.action, r.requests])).toEqual([['no-gpt5', 'deny', 2], ['tiny', 'block', 2]]);
    // Saved: the second request's response (12 + 9 tokens) and the whole second session (2 × 21).
    expect(json.totals.saved_tokens).toBe(21 + 42);
    const text = (await run(process.execPath, [CLI, '--home', home, 'policy', 'test', file])).stdout;
    expect(text).toContain('2 exchanges replayed (2 WebSocket sessions, 4 requests in them replayed one by one)');
    expect(text).toContain('blocked 2 (2 budget_exceeded)');
  });
});
