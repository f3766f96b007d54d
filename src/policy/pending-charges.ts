import { AwaitingEstimate } from '../recorder/awaiting-estimate.js';
import type { EstimatedUsage } from '../recorder/writer.js';
import type { BudgetCharger } from './budget-charge.js';
import { chargeTokens, type PolicyStageResult } from './stage.js';

type Applied = Pick<PolicyStageResult, 'charges' | 'budgetCharges'>;

/**
 * Policy charges of exchanges whose answer reported no usage, held until the archive's
 * writer reports the usage it estimated for them (recorder/row-estimate.ts): then their
 * token limits and budgets are charged as if the provider had reported it. Without this
 * an OpenAI Chat stream sent without `include_usage` (the SDKs' default) would spend
 * nothing. Charged late by the writer's delay (milliseconds), like any in-flight request.
 */
export class PendingCharges {
  readonly #held = new AwaitingEstimate<{ at: number; applied: Applied; charger: BudgetCharger | undefined }>();

  /** Holds `applied` for exchange `id` (started at `at`, epoch ms). */
  hold(id: string, at: number, applied: Applied, charger: BudgetCharger | undefined, now = Date.now()): void {
    this.#held.hold(id, { at, applied, charger }, now);
  }

  /** The writer's estimates: each held exchange among them is charged and let go. */
  settle(estimates: readonly EstimatedUsage[]): void {
    for (const e of estimates) {
      const held = this.#held.take(e.id);
      if (!held) continue;
      // What the estimate adds (estimate-pass.ts): output as counted, thinking within it, none beside it.
      chargeTokens({ inputTokens: e.inputTokens, outputTokens: e.outputTokens }, {}, held.applied.charges);
      if (held.applied.budgetCharges && e.usd !== null) held.charger?.chargeUsd(held.at, held.applied.budgetCharges, e.usd);
    }
  }

  /** Exchanges the writer will not estimate after all: their charges are let go (nothing to charge them with). */
  release(ids: readonly string[]): void {
    for (const id of ids) this.#held.take(id);
  }

  get size(): number {
    return this.#held.size;
  }
}
