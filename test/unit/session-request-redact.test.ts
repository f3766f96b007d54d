import { describe, expect, it } from 'vitest';
import { loadPolicyText } from '../../src/policy/load.js';
import { PolicyBuckets } from '../../src/policy/evaluate.js';
import { judgeSessionRequest } from '../../src/policy/session-request.js';
import type { MatchFacts } from '../../src/policy/types.js';

/** Redact rules on one request inside a Codex WebSocket session (judgeSessionRequest), without sockets. */
const facts = { provider: 'openai', host: 'api.openai.com', path: '/v1/responses', api: 'responses', model: 'gpt-5-codex' } as unknown as MatchFacts;
const state = () => ({ buckets: new PolicyBuckets(), now: Date.parse('2026-12-07T00:00:00Z') });
const event = (text: string): Record<string, unknown> => ({ type: 'response.create', model: 'gpt-5-codex', input: [{ role: 'user', content: [{ type: 'input_text', text }] }] });

describe('redact rules inside a WebSocket session', () => {
  it('an enforced block rule refuses and leaves placeholders in the event (what the archive keeps); a clean request passes', () => {
    const policy = loadPolicyText('rules:\n  - {id: no-mail, redact: {detectors: [email], action: block}}\n', 'p.yaml');
    const asked = event('write to kim@example.org');
    const verdict = judgeSessionRequest(policy, facts, asked, state());
    expect(verdict).toMatchObject({ block: 'content_blocked', decisions: [{ rule: 'no-mail', kind: 'redact', action: 'block', enforced: true, hits: [{ detector: 'email', at: 'input[0].content[0].text', count: 1 }] }] });
    expect(JSON.stringify(asked)).not.toContain('kim@example.org');
    expect(JSON.stringify(asked)).toContain('[REDACTED:email:1]');
    expect(judgeSessionRequest(policy, facts, event('nothing to see'), state())).toEqual({ decisions: [], tokenCharges: [] });
  });

  it('a monitor block rule records and changes nothing; a replace rule does not apply; a message cut at the capture limit is refused by a block rule', () => {
    const monitored = loadPolicyText('rules:\n  - {id: watch, mode: monitor, redact: {detectors: [email], action: block}}\n  - {id: swap, redact: {detectors: [email]}}\n', 'p.yaml');
    const asked = event('write to kim@example.org');
    const verdict = judgeSessionRequest(monitored, facts, asked, state());
    expect(verdict.block).toBeUndefined();
    expect(verdict.decisions).toEqual([{ rule: 'watch', kind: 'redact', action: 'block', enforced: false, hits: [{ detector: 'email', at: 'input[0].content[0].text', count: 1 }] }]);
    expect(JSON.stringify(asked)).toContain('kim@example.org');
    const blocking = loadPolicyText('rules:\n  - {id: no-mail, redact: {detectors: [email], action: block}}\n', 'p.yaml');
    expect(judgeSessionRequest(blocking, facts, {}, state(), true)).toMatchObject({ block: 'content_blocked', decisions: [{ hits: [{ detector: 'unreadable', at: 'message', count: 1 }] }] });
  });
});
