/**
 * How long `tail` holds back a row committed while awaiting the writer's estimate
 * (`usage_estimated = 0`, recorder/estimate-pass.ts), and `sessions` waits for it
 * (estimate-wait.ts). The estimate follows within milliseconds, or once the writer has
 * loaded its tokenizer the first time: ~0.5-1 s of CPU, but the writer thread runs at a
 * lower priority (writer-worker.ts), so on a machine whose cores are busy it gets a
 * fraction of one and the load took 10-15 s (two busy processes on 2 cores). 5 s let
 * such a first estimate go unprinted for good. A proxy killed in between never amends
 * the row, so past this it is printed as it stands; only then does the length cost
 * anything (lines held that long, once).
 */
export const HOLD_MS = 30_000;
/**
 * The least a row awaiting its estimate is held from when tail first reads it. A row whose
 * exchange ended long ago (`--all` over an archive a killed proxy left awaiting) is held
 * only this long, not HOLD_MS again.
 */
export const MIN_HOLD_MS = 1_000;

/** What HeldRows needs of a row. */
export interface HoldableRow {
  id: string;
  usage_estimated: 0 | 1 | 2 | null;
  started_at: number;
  ended_at: number | null;
}

/**
 * The rows `tail` has read and not yet printed, in the order they were committed. A row
 * awaiting its estimate would print without tokens and never again, so it is held until a
 * re-read shows it amended (or settled without one), until HOLD_MS after its exchange
 * ended (MIN_HOLD_MS at least); the rows after it wait with it, so lines keep the
 * archive's order. Pure: the caller reads, this decides.
 */
export class HeldRows<R extends HoldableRow> {
  readonly #queue: { row: R; until: number }[] = [];

  constructor(private readonly holdMs = HOLD_MS, private readonly minHoldMs = MIN_HOLD_MS) {}

  /** Rows just read (after the cursor), in order. */
  add(rows: readonly R[], now: number): void {
    for (const row of rows) this.#queue.push({ row, until: Math.max(now + this.minHoldMs, (row.ended_at ?? row.started_at) + this.holdMs) });
  }

  /** Ids of the held rows still awaiting their estimate: to re-read. */
  awaiting(): string[] {
    return this.#queue.filter((h) => h.row.usage_estimated === 0).map((h) => h.row.id);
  }

  /**
   * The rows to print now, in order: those re-read (`fresh`, by id) replace what was held;
   * the first row still awaiting and younger than holdMs stops the release there.
   */
  release(fresh: ReadonlyMap<string, R>, now: number): R[] {
    for (const held of this.#queue) held.row = fresh.get(held.row.id) ?? held.row;
    let n = 0;
    while (n < this.#queue.length) {
      const held = this.#queue[n]!;
      if (held.row.usage_estimated === 0 && now < held.until) break;
      n++;
    }
    return this.#queue.splice(0, n).map((h) => h.row);
  }

  /** Everything held, as it stands (the file was replaced: these rows can no longer change). */
  drain(): R[] {
    return this.#queue.splice(0).map((h) => h.row);
  }

  get size(): number {
    return this.#queue.length;
  }
}
