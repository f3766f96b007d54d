import type { Exchange } from '../exchange.js';
import type { EstimatedUsage } from '../recorder/estimate-pass.js';
import { mayEstimateUsage } from '../recorder/row-estimate.js';

/**
 * How long a span waits for the archive's estimate: it comes milliseconds after the
 * exchange ends, or once the writer has loaded its tokenizer the first time (~0.5-1 s
 * idle; 10-15 s on a machine whose cores are busy, the writer thread running at a lower
 * priority), as long as `tail` holds a line for it (cli/tail-hold.ts); a record lost on the
 * way never gets one, and its span goes out without it then.
 */
const WAIT_MS = 30_000;
/** Spans held at most (a writer far behind must not grow this without bound); past it they go out at once. */
const MAX_HELD = 2048;
/**
 * How long shutdown waits for the estimates of held spans: long enough for a batch already
 * written to be counted (milliseconds), short of the first tokenizer load on a busy machine;
 * a stop must not hang on spans.
 */
const DRAIN_MS = 1000;
const DRAIN_POLL_MS = 10;

/**
 * Spans of exchanges whose usage the archive estimates (an answer that reported none, an
 * Anthropic stream cut before its final usage: recorder/row-estimate.ts), held until the
 * writer reports the estimate (Recorder.onEstimated) so they carry it, flagged
 * `llmtap.usage_estimated`, as the archive, budgets and Prometheus do. Every other span goes
 * out as its exchange ends.
 */
export class SpanHold {
  readonly #held = new Map<string, { ex: Exchange; timer: NodeJS.Timeout }>();

  constructor(private readonly send: (ex: Exchange) => void, private readonly waitMs = WAIT_MS) {}

  /** Sends the exchange's span now, or holds it for the estimate the archive will make. */
  offer(ex: Exchange): void {
    if (!mayEstimateUsage(ex) || this.#held.size >= MAX_HELD) return this.send(ex);
    const timer = setTimeout(() => this.#release(ex.id), this.waitMs);
    timer.unref();
    this.#held.set(ex.id, { ex, timer });
  }

  /** The writer's report: estimated spans go out with their figures, those it will not estimate as they are. */
  settle(estimates: readonly EstimatedUsage[], none: readonly string[]): void {
    for (const e of estimates) {
      const held = this.#take(e.id);
      if (held) this.send(withEstimate(held, e));
    }
    for (const id of none) this.#release(id);
  }

  /**
   * Shutdown: waits, at most `maxMs`, for the estimates of the spans held while the archive
   * still has records to write (`archivePending`: an estimate is reported with the batch its
   * record was written in, so with nothing pending none is coming), then lets the rest go
   * as they are. Checked every few milliseconds: the writer's reports arrive on this thread.
   */
  async drain(archivePending: () => boolean, maxMs = DRAIN_MS): Promise<void> {
    const deadline = Date.now() + maxMs;
    while (this.#held.size > 0 && archivePending() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, Math.min(DRAIN_POLL_MS, Math.max(1, deadline - Date.now()))));
    }
    this.flush();
  }

  /** Everything held goes out as it is. */
  flush(): void {
    for (const id of [...this.#held.keys()]) this.#release(id);
  }

  get size(): number {
    return this.#held.size;
  }

  #take(id: string): Exchange | undefined {
    const held = this.#held.get(id);
    if (!held) return undefined;
    clearTimeout(held.timer);
    this.#held.delete(id);
    return held.ex;
  }

  #release(id: string): void {
    const ex = this.#take(id);
    if (ex) this.send(ex);
  }
}

/** The exchange as the archive amended it: the estimate adds to what it reported (nothing, or message_start's figures). */
function withEstimate(ex: Exchange, e: EstimatedUsage): Exchange {
  const usage = ex.usage ?? ex.response?.reassembled?.usage;
  return { ...ex, usage: { ...usage, inputTokens: (usage?.inputTokens ?? 0) + e.inputTokens, outputTokens: (usage?.outputTokens ?? 0) + e.outputTokens }, usageEstimated: e.part };
}
