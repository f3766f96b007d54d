import { readdirSync, readFileSync } from 'node:fs';
import { WebSocket } from 'ws';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseConnectTo } from '../../src/config.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { eventually, exported } from '../helpers/archive.js';
import { openTls, startFakeWs, type FakeWs } from '../helpers/fake-websocket.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/**
 * A redact rule that blocks applies to each request of a Codex WebSocket session as it
 * does to an HTTP request: one holding what the rule looks for is refused with an error
 * event, never sent upstream, and kept with placeholders. A rule that replaces does not
 * apply inside a session (a message is relayed as sent). Real `ws` client and server.
 */
const POLICY = loadPolicyText(`rules:
  - {id: watch-ibans, mode: monitor, redact: {detectors: [iban], action: block}}
  - {id: no-emails-out, redact: {detectors: [email], action: block}}
  - {id: tickets, redact: {patterns: [{name: ticket, regex: "TCK-[0-9]{4,}"}]}}
`, 'p.yaml');
const EMAIL = 'dana.ws-block@example.org';

let fake: FakeWs;
let tp: TestProxy;
beforeAll(async () => {
  fake = await startFakeWs();
  tp = await startTestProxy(undefined, { connectTo: [parseConnectTo(`api.openai.com:443:127.0.0.1:${fake.port}`)], upstreamCa: [fake.caFile], policy: POLICY });
});
afterAll(async () => {
  await tp?.close();
  await fake?.close();
});

describe('redact rules that block, inside a Codex WebSocket session', () => {
  it('refuses a request holding an email with an error event, sends it nowhere, keeps it with placeholders; the session goes on', async () => {
    const tls = await openTls({ proxyPort: tp.proxy.address.port, fakePort: fake.port, ca: tp.caPem });
    const ws = new WebSocket('wss://api.openai.com/v1/responses', { createConnection: () => tls });
    const got: string[] = [];
    ws.on('message', (d) => got.push(d.toString()));
    const closed = new Promise<number>((resolve) => ws.once('close', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    const ask = (text: string): Promise<string> => {
      const from = got.length;
      ws.send(JSON.stringify({ type: 'response.create', model: 'gpt-5-codex', instructions: 'be brief', input: [{ role: 'user', content: [{ type: 'input_text', text }] }] }));
      return eventually(() => {
        const answer = got.slice(from).find((m) => m.includes('"response.completed"') || m.includes('"type":"error"'));
        if (!answer) throw new Error('no answer yet');
        return answer;
      });
    };
    const upstream = () => fake.connections[fake.connections.length - 1]!;

    const refused = JSON.parse(await ask(`mail ${EMAIL} the report`)) as { type: string; status: number; error: { code: string; message: string } };
    expect(refused).toMatchObject({ type: 'error', error: { code: 'content_blocked' } });
    expect(refused.error.message).toContain('the request holds email (at input[0].content[0].text) that llmtap policy rule "no-emails-out" does not let leave this machine');
    expect(refused.error.message).not.toContain(EMAIL);
    expect(await ask('summarise the build log')).toContain('"response.completed"');
    // A replace rule does not apply inside a session: the ticket number goes as sent.
    expect(await ask('close TCK-12345 now')).toContain('"response.completed"');
    ws.close(1000);
    expect(await closed).toBe(1000);

    const sent = Buffer.concat(upstream().received).toString('latin1');
    expect(upstream().texts.length).toBe(2);
    expect(sent).not.toContain('dana.ws-block');
    expect(upstream().texts[1]).toContain('TCK-12345');

    const row = await eventually(() => {
      const r = exported(tp).find((e) => e.status === 101 && e.outcome === 'completed');
      if (!r) throw new Error('session not recorded yet');
      return r;
    });
    expect((row.policy as { decisions: unknown[] }).decisions).toEqual([
      { rule: 'no-emails-out', kind: 'redact', action: 'block', enforced: true, hits: [{ detector: 'email', at: 'input[0].content[0].text', count: 1 }] },
    ]);
    const messages = (row.websocket as { messages: Array<{ direction: string; text?: string }> }).messages;
    expect(messages[0]!.text).toContain('[REDACTED:email:1]');
    expect(messages[1]!.text).toContain('content_blocked');
    // Nowhere in the archive's files: the database and its WAL.
    tp.proxy.recorder.flush();
    const files = readdirSync(tp.home).filter((f) => f.startsWith('llmtap.db'));
    for (const f of files) expect(readFileSync(`${tp.home}/${f}`).includes(Buffer.from(EMAIL))).toBe(false);
  });
});
