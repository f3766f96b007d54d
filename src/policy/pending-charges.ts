import type { EstimatedUsage } from '../recorder/writer.js';
import type { BudgetCharger } from './budget-charge.js';
import { chargeTokens, type PolicyStageResult } from './stage.js';

type Applied = Pick<PolicyStageResult, 'charges' | 'budgetCharges'>;

/** How long an exchange's charges wait for the writer's estimate: past this its record was lost or never came. */
const WAIT_MS = 5 * 60_000;
/** Held at most: each waits for one record, and a writer far behind must not grow this without bound. */
const MAX_HELD = 10_000;

/**
 * Policy charges of exchanges whose answer reported no usage, held until the archive's
 * writer reports the usage it estimated for them (recorder/row-estimate.ts): then their
 * token limits and budgets are charged as if the provider had reported it. Without this
 * an OpenAI Chat stream sent without `include_usage` (the SDKs' default) would spend
 * nothing. Charged late by the writer's delay (milliseconds), like any in-flight request.
 */
export class PendingCharges {
  readonly #held = new Map<string, { at: number; heldAt: number; applied: Applied; charger: BudgetCharger | undefined }>();

  /** Holds `applied` for exchange `id` (started at `at`, epoch ms). */
  hold(id: string, at: number, applied: Applied, charger: BudgetCharger | undefined, now = Date.now()): void {
    this.#expire(now);
    if (this.#held.size >= MAX_HELD) this.#held.delete(this.#held.keys().next().value!);
    this.#held.set(id, { at, heldAt: now, applied, charger });
  }

  /** The writer's estimates: each held exchange among them is charged and let go. */
  settle(estimates: readonly EstimatedUsage[]): void {
    for (const e of estimates) {
      const held = this.#held.get(e.id);
      if (!held) continue;
      this.#held.delete(e.id);
      chargeTokens({ inputTokens: e.inputTokens, outputTokens: e.outputTokens }, held.applied.charges);
      if (held.applied.budgetCharges && e.usd !== null) held.charger?.chargeUsd(held.at, held.applied.budgetCharges, e.usd);
    }
  }

  get size(): number {
    return this.#held.size;
  }

  /** Drops what waited past WAIT_MS (oldest first: the map keeps insertion order). */
  #expire(now: number): void {
    for (const [id, held] of this.#held) {
      if (now - held.heldAt < WAIT_MS) break;
      this.#held.delete(id);
    }
  }
}
