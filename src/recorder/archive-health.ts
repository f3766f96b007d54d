import type { Logger } from '../log.js';
import type { ErrorInfo, WriteOutcome } from './writer.js';

/** A broken archive fails every batch, a full queue drops on every record: one log line per interval is enough. */
const LOG_INTERVAL_MS = 10_000;

/**
 * What the recorder has written and lost, and whether the archive is healthy (false
 * after a failed write until the next write succeeds; fail-closed mode turns it into
 * 503s), with the rate-limited log lines that go with each change.
 */
export class ArchiveHealth {
  recorded = 0;
  lost = 0;
  #healthy = true;
  #lastErrorLog = -Infinity;
  #lastDropLog = -Infinity;

  constructor(private readonly logger: Logger, private readonly now: () => number = Date.now) {}

  get healthy(): boolean {
    return this.#healthy;
  }

  /** Counts one batch's result; a failure marks the archive unhealthy, the first success after failures logs the recovery. */
  applyOutcome(outcome: WriteOutcome): void {
    this.recorded += outcome.recorded;
    this.lost += outcome.lost;
    if (outcome.error) {
      this.failed(outcome.error, outcome.rows);
    } else if (outcome.rows > 0 && !this.#healthy) {
      this.#healthy = true;
      this.logger.info({ lost: this.lost }, 'archive writes recovered');
    }
  }

  /** Marks the archive unhealthy and logs (rate-limited unless `always`): message and code only. */
  failed(error: ErrorInfo, rows: number, msg?: string, always = false): void {
    const wasHealthy = this.#healthy;
    this.#healthy = false;
    const t = this.now();
    if (wasHealthy || always || t - this.#lastErrorLog >= LOG_INTERVAL_MS) {
      this.#lastErrorLog = t;
      // Message and code only: row data would put prompts (and whatever they hold) in the log.
      msg ??= rows > 0 ? 'archive write failed; records lost' : 'archive unavailable; exchanges are not recorded until it can be opened (retried on each write)';
      this.logger.error({ err: error.message, code: error.code, rows, lost: this.lost }, msg);
    }
  }

  /** The queue was full and its oldest record was pushed out to make room. */
  dropped(maxQueue: number): void {
    this.lost++;
    const t = this.now();
    if (t - this.#lastDropLog >= LOG_INTERVAL_MS) {
      this.#lastDropLog = t;
      this.logger.warn({ maxQueue, lost: this.lost }, 'archive queue full; dropping oldest records');
    }
  }
}
