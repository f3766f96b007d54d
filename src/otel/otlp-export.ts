import type { Exchange } from '../exchange.js';
import type { Logger } from '../log.js';
import type { EstimatedUsage } from '../recorder/estimate-pass.js';
import { SpanHold } from './span-hold.js';
import type { Redactor } from '../redact/redactor.js';

export interface OtlpOptions {
  /** OTLP/HTTP traces URL, e.g. http://127.0.0.1:4318/v1/traces. */
  endpoint: string;
  content: boolean;
  /** Read per span: the operator's patterns change on reload. */
  redactor: () => Redactor;
  logger: Logger;
  /** Milliseconds between batches (default 5000, the SDK's). Tests shorten it. */
  scheduledDelayMillis?: number;
}

export interface OtlpExport {
  /** Queues the exchange's span; the batch processor sends it later, off the request's path. */
  export(ex: Exchange): void;
  /** The archive's estimates (Recorder.onEstimated): the spans held for them go out (span-hold.ts). */
  estimated(estimates: readonly EstimatedUsage[], none: readonly string[]): void;
  /**
   * Sends what is queued and stops (shutdown; at most the exporter's timeout). Spans held for
   * an estimate wait for it while `archivePending` says the archive still has records to
   * write, at most a second (span-hold.ts); without it they go as they are.
   */
  shutdown(archivePending?: () => boolean): Promise<void>;
}

/** Exchanges held while the SDK loads (its first ~100 ms); more are dropped, as a full batch queue drops. */
const HELD_WHILE_LOADING = 2048;

/**
 * OTLP span export (otlp-sdk.ts), with the OpenTelemetry SDK loaded only once it is asked
 * for: the SDK and its OTLP transformer add ~17 MB of memory and ~70 ms to every start,
 * which a proxy without --otlp-endpoint must not pay. Exchanges that end while it loads
 * are held (bounded) and exported when it is ready.
 */
export function startOtlpExport(options: OtlpOptions): OtlpExport {
  let ready: OtlpExport | undefined;
  let held: Exchange[] | undefined = [];
  const loading = import('./otlp-sdk.js').then(
    (sdk) => {
      ready = sdk.startSdkExport(options);
      for (const ex of held ?? []) ready.export(ex);
      held = undefined;
    },
    (err: unknown) => {
      held = undefined;
      options.logger.warn({ err: (err as Error).message }, 'OTLP export could not start; spans dropped');
    },
  );
  const send = (ex: Exchange): void => {
    if (ready) ready.export(ex);
    else if (held && held.length < HELD_WHILE_LOADING) held.push(ex);
  };
  const awaiting = new SpanHold(send);
  return {
    export: (ex) => awaiting.offer(ex),
    estimated: (estimates, none) => awaiting.settle(estimates, none),
    async shutdown(archivePending) {
      if (archivePending) await awaiting.drain(archivePending);
      else awaiting.flush();
      await loading;
      await ready?.shutdown();
    },
  };
}
