import { describe, expect, it } from 'vitest';
import { makeExchange, type Exchange } from '../../src/exchange.js';
import { createLogger } from '../../src/log.js';
import { BudgetCharger } from '../../src/policy/budget-charge.js';
import { loadPolicyText } from '../../src/policy/load.js';
import { decodeRecord, encodeRecord } from '../../src/recorder/record-codec.js';
import { applyCost, priceOf } from '../../src/recorder/row-cost.js';
import { exchangeToRow } from '../../src/recorder/rows.js';

const AT = Date.parse('2026-12-01T12:00:00Z');

/** gpt-4o, a million tokens each way: $2.50 + $10.00 at the bundled prices. */
function gpt4o(): Exchange {
  return makeExchange({ provider: 'openai', api: 'chat.completions', request: { model: 'gpt-4o' }, usage: { inputTokens: 1_000_000, outputTokens: 1_000_000 }, timings: { start: AT } });
}

describe('an exchange is priced once', () => {
  it('priceOf keeps its answer on the exchange and gives the same one again', () => {
    const ex = gpt4o();
    const first = priceOf(ex, undefined)!;
    expect(first.usd).toBe(12.5);
    expect(ex.price).toBe(first);
    expect(priceOf(ex, undefined)).toBe(first);
  });

  it('the archive writes the price the exchange carries (it does not price it again)', () => {
    const ex = gpt4o();
    // A figure the price data cannot give: only the carried price can put it in the row.
    ex.price = { usd: 0.4242, source: 'override', pricesVersion: 'test' };
    const row = exchangeToRow(ex);
    applyCost(row, ex, undefined);
    expect([row.cost_usd, row.cost_source]).toEqual([0.4242, 'override']);
  });

  it('the carried price survives the hand-over to the writer thread (record encoding)', () => {
    const ex = gpt4o();
    priceOf(ex, undefined);
    const decoded = decodeRecord(encodeRecord({ kind: 'exchange', exchange: ex }));
    if (decoded.kind !== 'exchange') throw new Error('not an exchange record');
    // The figure and its source travel (all the writer reads), not the lookup's details.
    expect(decoded.exchange.price).toEqual({ usd: ex.price!.usd, source: ex.price!.source });
    const row = exchangeToRow(decoded.exchange);
    applyCost(row, decoded.exchange, undefined);
    expect(row.cost_usd).toBe(12.5);
  });

  it('a budget charge prices the exchange for the archive too: the ledger and the row count the same dollars', async () => {
    const policy = loadPolicyText('rules:\n  - {id: spend, budget: {usd: 100, period: day, per: model}}\n');
    const charger = new BudgetCharger(createLogger({ level: 'silent' }));
    charger.sync(policy, AT);
    const ex = gpt4o();
    await charger.charge(ex, [{ rule: policy.budget[0]!, key: 'model:gpt-4o' }]);
    expect(ex.price?.usd).toBe(12.5);
    expect(charger.ledger.spent(policy.budget[0]!, 'model:gpt-4o', AT)).toBe(12.5);
    const row = exchangeToRow(ex);
    applyCost(row, ex, undefined);
    expect(row.cost_usd).toBe(12.5);
  });

  it('an answer from the response cache is not charged, and costs nothing in the archive', () => {
    const ex = gpt4o();
    ex.policy = { decisions: [{ rule: 'c', kind: 'cache', action: 'hit', enforced: true, key: 'abc' }] };
    expect(priceOf(ex, undefined)).toBeUndefined();
    expect(ex.price).toBeUndefined();
    const row = exchangeToRow(ex);
    applyCost(row, ex, undefined);
    expect([row.cost_usd, row.cost_source]).toEqual([0, 'cache']);
  });
});
