/** Weight of the newest batch in the per-row cost estimate. */
const COST_SMOOTHING = 0.2;

/**
 * How many rows the next calling-thread batch takes so that it stays within its
 * event-loop budget. Row cost depends on the disk and body sizes, so it is measured:
 * a smoothed cost per row from the batches written so far, never above `maxBatch`
 * rows nor below one.
 */
export class BatchSizer {
  #rowCostMs: number;

  constructor(private readonly maxBatch: number, private readonly budgetMs: number) {
    this.#rowCostMs = budgetMs / maxBatch; // start optimistic: full batches
  }

  rows(): number {
    return Math.min(this.maxBatch, Math.max(1, Math.floor(this.budgetMs / this.#rowCostMs)));
  }

  /** A batch of `taken` rows took `ms`. */
  measured(ms: number, taken: number): void {
    if (taken > 0) this.#rowCostMs += (ms / taken - this.#rowCostMs) * COST_SMOOTHING;
  }
}
