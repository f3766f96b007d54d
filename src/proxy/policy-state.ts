import { ResponseCaches } from '../cache/response-caches.js';
import type { PriceOverrides } from '../cost/override-match.js';
import type { Logger } from '../log.js';
import { BudgetCharger, type SpendSource } from '../policy/budget-charge.js';
import type { CompiledPolicy } from '../policy/compile.js';
import { PolicyBuckets } from '../policy/evaluate.js';
import { PendingCharges } from '../policy/pending-charges.js';
import type { PolicyRuntime } from '../policy/stage.js';
import type { Recorder } from '../recorder/recorder.js';

/**
 * What the policy keeps across reloads — rate-limit buckets, the response caches,
 * budget spend — and the runtime the exchange stages read. A reload swaps the
 * compiled policy; state of rules that did not change carries over.
 */
export class PolicyState {
  /** Rate-limit state, per rule and key. */
  private readonly buckets = new PolicyBuckets();
  /** Answers of the cache rules (src/cache). */
  readonly responseCaches = new ResponseCaches();
  /** Budget spend, seeded from the archive for new rules. */
  private readonly budgets: BudgetCharger;

  /** Charges of answers without usage, until the archive reports its estimate. */
  private readonly pending = new PendingCharges();

  constructor(private readonly recorder: Recorder, logger: Logger, spend?: SpendSource, prices?: PriceOverrides) {
    this.budgets = new BudgetCharger(logger, spend, prices);
    recorder.onEstimated((estimates, none) => {
      this.pending.settle(estimates);
      this.pending.release(none);
    });
  }

  /** Exchanges whose charges wait for the archive's estimate (diagnostics and tests). */
  get awaitingEstimates(): number {
    return this.pending.size;
  }

  /** Brings the state in line with `policy` and returns the runtime to use (undefined: no policy stage). */
  apply(policy: CompiledPolicy | undefined): PolicyRuntime | undefined {
    if (policy) this.buckets.retain(policy);
    this.recorder.recordCacheEviction(this.responseCaches.retain(policy?.cache ?? []));
    this.budgets.sync(policy);
    if (!policy) return undefined;
    const recorder = this.recorder;
    return {
      policy, buckets: this.buckets, budgets: this.budgets.ledger, charger: this.budgets, pending: this.pending,
      ...(policy.cache.length > 0 ? { caches: this.responseCaches, cachePersistence: { put: (e) => recorder.recordCacheEntry(e), delete: (k) => recorder.recordCacheEviction(k) } } : {}),
    };
  }
}
