import { describe, expect, it } from 'vitest';
import { exchangeToJson } from '../../src/archive/export.js';
import { harEntry } from '../../src/archive/har.js';
import { makeExchange } from '../../src/exchange.js';
import { exchangeToRow } from '../../src/recorder/rows.js';

/** A price summed from per-token rates carries binary noise; every other output gives it to 12 significant digits. */
describe('cost in export --format jsonl and har', () => {
  it('is the figure, not the float noise of its sum', () => {
    const ex = makeExchange({ provider: 'anthropic', api: 'messages', request: { model: 'claude-sonnet-4-5', path: '/v1/messages' } });
    ex.outcome = 'completed';
    const row = exchangeToRow(ex);
    row.cost_usd = 0.00019920000000000002;
    expect(exchangeToJson(row).cost_usd).toBe(0.0001992);
    expect((harEntry(row) as { _llmtap: { cost_usd: number } })._llmtap.cost_usd).toBe(0.0001992);
    row.cost_usd = null;
    expect(exchangeToJson(row).cost_usd).toBeNull();
  });
});
