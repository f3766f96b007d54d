import { describe, expect, it } from 'vitest';
import { unpricedByRow } from '../../src/archive/unpriced-groups.js';
import { unpricedNote } from '../../src/cli/stats.js';
import { priceExchange } from '../../src/cost/price-exchange.js';
import { unpricedReason, type UnpricedRow } from '../../src/cost/unpriced-reason.js';

const row = (over: Partial<UnpricedRow>): UnpricedRow => ({
  cost_usd: null, cost_source: null, status: 200, provider: 'openai', host: 'api.openai.com', api: 'chat.completions', model: 'gpt-4o-mini', policy: null,
  port: 443, tls: 1, path: '/v1/chat/completions', started_at: Date.parse('2026-12-01T00:00:00Z'), input_tokens: 10, output_tokens: 5, cached_input_tokens: null, cache_creation_input_tokens: null,
  reasoning_tokens: null, input_audio_tokens: null, cached_audio_input_tokens: null, output_audio_tokens: null, ...over,
});
const price = (input: Parameters<typeof priceExchange>[0]) => priceExchange(input);

describe('unpricedReason', () => {
  it('asks the price list again: an unknown model, a local one; nothing for a priced row, no tokens, or a WebSocket session', () => {
    expect(unpricedReason(row({ model: 'gpt-nonesuch-9' }), price)).toBe('unknown model "gpt-nonesuch-9" for openai');
    expect(unpricedReason(row({ provider: 'ollama', host: 'localhost', api: 'ollama.chat', model: 'llama3.2' }), price)).toContain('local model');
    expect(unpricedReason(row({ cost_usd: 0.001 }), price)).toBeUndefined();
    expect(unpricedReason(row({ input_tokens: null, output_tokens: null }), price)).toBeUndefined();
    expect(unpricedReason(row({ status: 101, model: 'gpt-nonesuch-9' }), price)).toBeUndefined();
  });

  it('a routed request is asked about the model it was sent as; one the prices read now know says so', () => {
    const routed = JSON.stringify({ decisions: [], route: { from: { upstream: 'https://api.openai.com', model: 'gpt-4o-mini' }, to: { upstream: 'https://api.openai.com', model: 'gpt-routed-x' } } });
    expect(unpricedReason(row({ policy: routed }), price)).toBe('unknown model "gpt-routed-x" for openai');
    expect(unpricedReason(row({}), price)).toMatch(/^not priced when recorded; the prices read now give \$0\.0000\d+$/);
  });
});

describe('unpricedNote', () => {
  it('most first, at most five models named, the rest counted; the --prices hint only for an unknown model', () => {
    const groups = Array.from({ length: 7 }, (_, i) => ({ provider: 'openai', host: 'api.openai.com', model: `m${i}`, exchanges: 20 - i, reason: `unknown model "m${i}" for openai` }));
    const note = unpricedNote(groups);
    expect(note.split('\n')[0]).toBe('no cost for 119 exchanges that counted tokens:');
    expect(note).toContain('\n  20  m0 at api.openai.com: unknown model "m0" for openai\n');
    expect(note).not.toContain('m5 at');
    expect(note).toContain('… and 29 exchanges of 2 more models');
    expect(note).toContain('--prices');
    expect(unpricedNote([{ provider: 'ollama', host: 'localhost', model: 'llama3.2', exchanges: 1, reason: 'local model (ollama): not billed per token' }])).not.toContain('--prices');
    expect(unpricedNote([])).toBe('');
  });
});

describe('unpricedByRow (stats --json: unpriced_reasons)', () => {
  it('puts each group under its stats row; a team\'s members\' alike groups added up, most first', () => {
    const reason = 'unknown model "gpt-nonesuch-9" for openai';
    const group = { provider: 'openai', host: 'api.openai.com', model: 'gpt-nonesuch-9', reason };
    const teams = new Map([['alice', 'platform'], ['bob', 'platform']]);
    const rows = unpricedByRow([
      { ...group, key: 'alice', exchanges: 1 },
      { ...group, key: 'carol', exchanges: 4 },
      { ...group, key: 'bob', exchanges: 2 },
      { ...group, model: 'llama3.2', reason: 'local model (ollama): not billed per token', key: 'alice', exchanges: 2 },
    ], (k) => (k !== null && teams.has(k) ? `team:${teams.get(k)}` : `user:${k}`));
    expect(rows.get('team:platform')).toEqual([{ ...group, exchanges: 3 }, { ...group, model: 'llama3.2', reason: 'local model (ollama): not billed per token', exchanges: 2 }]);
    expect(rows.get('user:carol')).toEqual([{ ...group, exchanges: 4 }]);
  });
});
