import type { PriceOverrides } from '../cost/override-match.js';
import type { loadPricing } from '../cost/load-pricing.js';
import type { Exchange, ResponsePart } from '../exchange.js';
import type { Logger } from '../log.js';
import { builtInRedactor } from '../redact/redactor.js';
import { BudgetLedger, seedBudgets, spendSince, type BudgetCharge, type BudgetCrossing, type SpendRow } from './budget.js';
import type { CompiledPolicy } from './compile.js';

/** The cost module's two prices (an exchange's, a WebSocket response's), loaded once a policy has budget rules. */
type Pricing = Awaited<ReturnType<typeof loadPricing>>;

/** Archived spend since an instant (epoch ms), through the archive reader seam; [] when there is no archive yet. */
export type SpendSource = (since: number) => Iterable<SpendRow>;

/**
 * Prices finished exchanges for the budget rules that matched them and keeps the
 * ledger in step with the policy. The cost module (and its ~200 ms of price data) is
 * only loaded in the proxy's main thread once a policy has budget rules. A charge made
 * before the record is handed over puts its price on the exchange, which the archive
 * then records as is (priceOf in row-cost.ts).
 */
export class BudgetCharger {
  readonly ledger = new BudgetLedger();
  private loading?: Promise<Pricing>;
  private pricing?: Pricing;

  constructor(private readonly logger: Logger, private readonly spend?: SpendSource, private readonly overrides?: PriceOverrides) {}

  /** At start and on every reload: seeds new budget rules with the current period's archived spend. */
  sync(policy: CompiledPolicy | undefined, now = Date.now()): void {
    const fresh = this.ledger.retain(policy?.budget ?? []);
    if (!policy || policy.budget.length === 0) return;
    this.loading ??= import('../cost/load-pricing.js')
      .then((m) => m.loadPricing())
      .then((p) => (this.pricing = p));
    if (fresh.length === 0) return;
    let rows: Iterable<SpendRow> = [];
    try {
      rows = this.spend?.(spendSince(fresh, now)) ?? [];
      seedBudgets(this.ledger, policy, fresh, rows, now);
    } catch (err) {
      // A budget starts from zero rather than stopping the proxy; the log says why.
      for (const rule of fresh) this.ledger.open(rule);
      this.logger.warn({ err: builtInRedactor.text((err as Error).message) }, 'budget spend could not be read from the archive; budgets start at zero');
    }
  }

  /** After the exchange ended: its cost goes to each budget that matched it (synchronous once the cost module is loaded). */
  charge(ex: Exchange, charges: readonly BudgetCharge[]): void | Promise<void> {
    // The archive's own price (priceOf keeps it on the exchange, and the writer records that one).
    return this.withPricing(charges, (p) => this.apply(ex, charges, p.priceOf(ex, this.overrides)?.usd ?? null));
  }

  /**
   * One response of a WebSocket session, as it ends: the session goes on, and its budget
   * must not wait for it to close. The responses' charges add up to the session's archived
   * price (priceSession sums the same priceResponse).
   */
  chargeResponse(ex: Exchange, part: ResponsePart, charges: readonly BudgetCharge[]): void | Promise<void> {
    return this.withPricing(charges, (p) => this.apply(ex, charges, p.priceResponse(ex, part, this.overrides)?.usd ?? null));
  }

  private withPricing(charges: readonly BudgetCharge[], then: (pricing: Pricing) => void): void | Promise<void> {
    if (charges.length === 0) return;
    if (this.pricing) return then(this.pricing);
    return this.loading?.then(then);
  }

  /** A price already known (the archive's estimate for an answer without usage: pending-charges.ts), for an exchange started at `at`. */
  chargeUsd(at: number, charges: readonly BudgetCharge[], usd: number): void {
    if (usd <= 0) return;
    for (const c of charges) {
      const crossed = this.ledger.add(c.rule, c.key, usd, at);
      if (crossed) this.log(crossed);
    }
  }

  private apply(ex: Exchange, charges: readonly BudgetCharge[], usd: number | null): void {
    if (usd !== null) this.chargeUsd(ex.timings.start, charges, usd);
  }

  private log(c: BudgetCrossing): void {
    const fields = {
      rule: builtInRedactor.text(c.rule.id), key: builtInRedactor.text(c.key), period: c.rule.period,
      spentUsd: Math.round(c.spentUsd * 1e6) / 1e6, budgetUsd: c.rule.usd, enforced: c.rule.mode === 'enforce',
    };
    if (c.crossed === 'warn') this.logger.warn({ ...fields, warnAt: c.rule.warnAt }, 'budget warning: past its threshold for this period');
    else this.logger.warn(fields, 'budget spent for this period');
  }
}
