import { describe, expect, it } from 'vitest';
import type { ExchangeListRow } from '../../src/archive/store.js';
import { statusLabel } from '../../src/cli/render/format.js';
import { tailLine } from '../../src/cli/tail.js';

describe('an exchange\'s status on the terminal', () => {
  it('names the outcome of an exchange that did not complete, whatever its status said', () => {
    expect(statusLabel(200, 'completed')).toEqual({ text: '200', failed: false });
    expect(statusLabel(200, 'upstream_error')).toEqual({ text: '200 upstream_error', failed: true });
    expect(statusLabel(200, 'client_aborted')).toEqual({ text: '200 client_aborted', failed: true });
    expect(statusLabel(429, 'completed')).toEqual({ text: '429', failed: true });
    expect(statusLabel(null, 'upstream_unreachable')).toEqual({ text: 'upstream_unreachable', failed: true });
    expect(statusLabel(null, null)).toEqual({ text: '-', failed: false });
  });

  it('tail shows a stream broken after its 200 as broken, not as a success', () => {
    const row = {
      started_at: Date.UTC(2026, 11, 6, 12), ended_at: Date.UTC(2026, 11, 6, 12) + 55, status: 200, outcome: 'upstream_error',
      tool_name: 'openai-sdk-node', model: 'gpt-4o-mini', api: 'chat.completions', input_tokens: null, cached_input_tokens: null,
      cache_creation_input_tokens: null, output_tokens: null, cost_usd: null, cost_source: null, method: 'POST', host: 'api.openai.com',
      path: '/v1/chat/completions', session_id: null,
    } as unknown as ExchangeListRow;
    expect(tailLine(row, false)).toContain('  200 upstream_error  ');
    expect(tailLine({ ...row, outcome: 'completed' }, false)).toMatch(/ {2}200 {2}/);
  });
});
