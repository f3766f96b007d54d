import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sendRaw } from '../faults/secrets-helpers.js';
import { eventually, exported } from '../helpers/archive.js';
import { startFakeProvider, type FakeProvider } from '../helpers/fake-provider.js';
import { startTestProxy, type TestProxy } from '../helpers/start-proxy.js';

/** A request shaped like Claude Code's (headers, metadata.user_id) answered with subscription quota headers. */
describe('tool, agent metadata and quota through the proxy', () => {
  let fake: FakeProvider;
  let tp: TestProxy;

  beforeAll(async () => {
    fake = await startFakeProvider();
    tp = await startTestProxy(fake);
  });
  afterAll(async () => {
    await tp.close();
    await fake.close();
  });

  it('a Claude Code request lands in the archive and in export with its tool, session, subagent and quota', async () => {
    // The fake mirrors the request body as the answer: a Messages answer that also carries the request's metadata.
    const answer = JSON.parse(readFileSync(new URL('../fixtures/sse/anthropic-messages.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const userId = JSON.stringify({ device_id: 'dev', account_uuid: 'acct', session_id: '5f1c2a3b-0000-4000-8000-000000000001' });
    const body = JSON.stringify({ ...answer, metadata: { user_id: userId } });
    const quota = { 'anthropic-ratelimit-unified-status': 'allowed', 'anthropic-ratelimit-unified-5h-utilization': '0.25', 'anthropic-ratelimit-unified-7d-utilization': '0.5' };
    const res = await sendRaw(tp, 'api.anthropic.com', 'POST /v1/messages HTTP/1.1', [
      ['Content-Type', 'application/json'],
      ['User-Agent', 'claude-cli/2.0.14 (external, cli)'],
      ['x-claude-code-agent-id', 'subagent-1'],
      ['X-Fake-Mirror', '1'],
      ['X-Fake-Answer-Headers', JSON.stringify(quota)],
    ], body);
    expect(res.status).toBe('HTTP/1.1 200 OK');
    const ex = await eventually(() => {
      const found = exported(tp).find((e) => e.tool?.name === 'claude-code');
      if (!found) throw new Error('not recorded yet');
      return found;
    });
    expect(ex.tool).toEqual({ name: 'claude-code', version: '2.0.14' });
    expect(ex.agent).toEqual({ sessionId: '5f1c2a3b-0000-4000-8000-000000000001', agentId: 'subagent-1' });
    expect(ex.quota).toEqual({ anthropic: { 'unified-status': 'allowed', 'unified-5h-utilization': 0.25, 'unified-7d-utilization': 0.5 } });
    expect(ex.model).toBeTruthy();
  });

  it('a key pasted into an agent id is redacted', async () => {
    await sendRaw(tp, 'api.openai.com', 'POST /v1/responses HTTP/1.1', [
      ['Content-Type', 'application/json'], ['User-Agent', 'codex_exec/0.46.0 (Ubuntu 24.4.0; x86_64)'], ['session_id', 'sk-proj-AGENTSECRETAGENTSECRET0123'],
    ], JSON.stringify({ model: 'gpt-5-codex', input: 'hi', previous_response_id: 'resp_prev' }));
    const ex = await eventually(() => {
      const found = exported(tp).find((e) => e.tool?.name === 'codex');
      if (!found) throw new Error('not recorded yet');
      return found;
    });
    expect(ex.agent).toEqual({ sessionId: '[REDACTED]', previousResponseId: 'resp_prev' });
    expect(JSON.stringify(ex)).not.toContain('AGENTSECRET');
  });
});
