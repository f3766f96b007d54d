import { Modality } from '@google/genai';
import { execFile } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo, paths } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { eventually, exported } from '../helpers/archive.js';
import { liveThroughProxy, serveGeminiLive } from '../helpers/fake-gemini-live.js';
import { startFakeWs, type FakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * A redact rule that blocks reads a Gemini Live session's text as it reads an HTTP body's:
 * a turn's text (sendClientContent), realtime text, a tool's answer. Live has no error
 * event, so a refused message never reaches the server and the session ends (close 1008,
 * content_blocked). Opened by @google/genai's live.connect through the proxy.
 */
const CLI = resolve('dist/cli/main.js');
const run = promisify(execFile);
const KEY = 'sk-proj-' + 'Zz9Yy8Xx7Ww6Vv5Uu4Tt3Ss2Rr1Qq0Pp';

let fake: FakeWs;
let tp: TestProxy;
beforeAll(async () => {
  fake = await startFakeWs({ serve: serveGeminiLive });
  tp = await startTestProxy(undefined, {
    connectTo: [parseConnectTo(`generativelanguage.googleapis.com:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile],
    policy: loadPolicyText('rules:\n  - {id: no-keys, redact: {detectors: [api_key], action: block}}\n', 'p.yaml'),
  });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

/** A Live session that sends `text` as a user turn once it opens; resolves with its close. */
function session(text: string): Promise<{ code: number; reason: string }> {
  return new Promise((resolve, reject) => {
    liveThroughProxy({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem }, 'AIzaSyREDACTsecretKEY0123456789abcdefgh').live.connect({
      model: 'gemini-live-2.5-flash-preview',
      config: { responseModalities: [Modality.TEXT] },
      callbacks: { onmessage: () => undefined, onclose: (e: { code: number; reason: string }) => resolve({ code: e.code, reason: e.reason }) },
    }).then((s) => {
      s.sendClientContent({ turns: [{ role: 'user', parts: [{ text }] }], turnComplete: true });
      // An allowed session: closed once its answer came (the fake answers a turn with a tool call).
      setTimeout(() => s.close(), 1500);
    }, reject);
  });
}

describe('a redact rule that blocks, on a Gemini Live session', () => {
  it('ends the session (1008 content_blocked) at a turn holding a key, before the turn reaches the server; the archive keeps a placeholder', async () => {
    expect((await session('Weather in Paris?')).code).not.toBe(1008); // closed by the client
    expect(await session(`Deploy with ${KEY} please`)).toEqual({ code: 1008, reason: 'content_blocked' });
    // The server got both setups, the clean turn, and nothing of the refused one.
    const texts = fake.connections.flatMap((c) => c.texts);
    expect(texts.filter((t) => t.startsWith('{"setup"'))).toHaveLength(2);
    expect(texts.filter((t) => t.includes('Weather in Paris?'))).toHaveLength(1);
    expect(texts.some((t) => t.includes('Deploy with'))).toBe(false);

    const rows = await eventually(() => {
      const sessions = exported(tp).filter((e) => e.status === 101);
      if (sessions.length < 2) throw new Error('not recorded yet');
      return sessions;
    }, 10_000);
    const blocked = rows.find((r) => r.outcome === 'blocked')!;
    expect(blocked).toMatchObject({ api: 'gemini.live', error_code: 'content_blocked', model: 'gemini-live-2.5-flash-preview' });
    expect(blocked.policy).toMatchObject({ blocked: 'content_blocked', decisions: [{ rule: 'no-keys', kind: 'redact', action: 'block', enforced: true, hits: [{ detector: 'api_key', at: 'clientContent.turns[0].parts[0].text', count: 1 }] }] });
    const refused = blocked.websocket!.messages.find((m) => m.direction === 'client' && m.text?.includes('Deploy with'));
    expect(refused?.text).toContain('[REDACTED:api_key:1]');
    expect(JSON.stringify(rows)).not.toContain(KEY);
    tp.proxy.recorder.flush();
    expect(readFileSync(paths(tp.home).archive).includes(Buffer.from(KEY))).toBe(false);
    expect(rows.find((r) => r.outcome !== 'blocked')?.policy ?? undefined).toBeUndefined();

    // `policy test` reads the recorded messages the same way: a rule refusing "Paris" would have ended the first session at its turn.
    const file = join(tp.home, 'what-if.yaml');
    writeFileSync(file, 'rules:\n  - {id: no-paris, redact: {detectors: [], patterns: [{name: city, regex: "Paris"}], action: block}}\n');
    const json = JSON.parse((await run(process.execPath, [CLI, '--home', tp.home, 'policy', 'test', file, '--json'])).stdout) as { websocket_sessions: number; totals: { blocked_by: Record<string, number> }; rules: { rule: string; action: string; requests: number }[] };
    expect(json.websocket_sessions).toBe(2);
    expect(json.totals.blocked_by).toEqual({ content_blocked: 1 });
    expect(json.rules.map((r) => [r.rule, r.action, r.requests])).toEqual([['no-paris', 'block', 1]]);
  });
});
