/** How long something waits for the writer's estimate: past this its record was lost or never came. */
const WAIT_MS = 5 * 60_000;
/** Held at most: each waits for one record, and a writer far behind must not grow this without bound. */
const MAX_HELD = 10_000;

/**
 * What the main thread keeps for an exchange whose answer reported no usage, until the
 * archive's writer reports the usage it estimated (Recorder.onEstimated): the policy's
 * charges, the Prometheus series to add to. Bounded in time and size, oldest dropped first.
 */
export class AwaitingEstimate<T> {
  readonly #held = new Map<string, { value: T; heldAt: number }>();

  hold(id: string, value: T, now = Date.now()): void {
    this.#expire(now);
    if (this.#held.size >= MAX_HELD) this.#held.delete(this.#held.keys().next().value!);
    this.#held.set(id, { value, heldAt: now });
  }

  /** What was held for `id`, let go; undefined when nothing was (or it expired). */
  take(id: string): T | undefined {
    const held = this.#held.get(id);
    if (held) this.#held.delete(id);
    return held?.value;
  }

  get size(): number {
    return this.#held.size;
  }

  /** Drops what waited past WAIT_MS (the map keeps insertion order: oldest first). */
  #expire(now: number): void {
    for (const [id, held] of this.#held) {
      if (now - held.heldAt < WAIT_MS) break;
      this.#held.delete(id);
    }
  }
}
