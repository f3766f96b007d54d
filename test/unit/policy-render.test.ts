import { describe, expect, it } from 'vitest';
import { decisionLines } from '../../src/cli/render/policy-text.js';
import { parsePolicy } from '../../src/policy/parse-record.js';
import type { PolicyRecord } from '../../src/policy/types.js';

describe('policy decisions as show prints them', () => {
  it('one line per decision: rule, kind, action, what changed; monitor marked; the refusal last', () => {
    const record: PolicyRecord = {
      decisions: [
        { rule: 'pii', kind: 'redact', action: 'replace', enforced: true, hits: [{ detector: 'email', at: 'messages[0].content', count: 2 }] },
        { rule: 'cap', kind: 'limits', action: 'clamp', enforced: true, limit: 'maxTokens', field: 'generationConfig.maxOutputTokens', from: 8192, to: 512 },
        { rule: 'watch', kind: 'budget', action: 'warn', enforced: false, key: 'team:core', period: 'week', periodStart: '2026-03-16T00:00:00.000Z', spentUsd: 4.2, limitUsd: 5 },
        { rule: 'big', kind: 'limits', action: 'block', enforced: true, limit: 'requestBytes', from: 2048, to: 1024 },
      ],
      blocked: 'request_too_large',
    };
    expect(decisionLines(record)).toEqual([
      'pii · redact replace · email×2 at messages[0].content',
      'cap · limits clamp · generationConfig.maxOutputTokens 8192 → 512',
      'monitor: watch · budget warn · team:core spent $4.20 of $5.00 this week (from 2026-03-16)',
      'big · limits block · body 2048 bytes, limit 1024',
      'refused: request_too_large',
    ]);
  });

  it('a changed body answered from the cache is said to be recorded, not sent upstream', () => {
    const hit = { decisions: [{ rule: 'pii', kind: 'redact', action: 'replace', enforced: true, hits: [{ detector: 'email', at: 'messages[0].content', count: 1 }] }, { rule: 'c', kind: 'cache', action: 'hit', enforced: true, key: 'abcd', ageSeconds: 3 }], bodyChanged: true } as PolicyRecord;
    expect(decisionLines(hit).at(-1)).toBe('the body recorded (answered from the cache) differs from the one the client sent');
    const miss = { ...hit, decisions: [hit.decisions[0]!, { rule: 'c', kind: 'cache', action: 'miss', enforced: true, key: 'abcd' }] } as PolicyRecord;
    expect(decisionLines(miss).at(-1)).toBe('the body sent upstream differs from the one the client sent');
  });

  it('a kind this build does not know (a newer archive) still prints its rule and action; a bad column is no record', () => {
    const record = { decisions: [{ rule: 'r', kind: 'teleport', action: 'beam', enforced: true }], bodyChanged: true } as unknown as PolicyRecord;
    expect(decisionLines(record)).toEqual(['r · teleport beam', 'the body sent upstream differs from the one the client sent']);
    expect(parsePolicy('{"nope":1}')).toBeUndefined();
    expect(parsePolicy('not json')).toBeUndefined();
    expect(parsePolicy(null)).toBeUndefined();
  });
});

describe('decisions on the requests of a WebSocket session', () => {
  it('an access decision names the model the request asked for', () => {
    const record: PolicyRecord = { decisions: [
      { rule: 'codex', kind: 'access', action: 'allow', enforced: true, model: 'gpt-5-codex' },
      { rule: 'rest', kind: 'access', action: 'deny', enforced: true, model: 'o3' },
      { rule: 'plain', kind: 'access', action: 'deny', enforced: false },
    ] };
    expect(decisionLines(record)).toEqual(['codex · access allow · request for gpt-5-codex', 'rest · access deny · request for o3', 'monitor: plain · access deny']);
  });
});
