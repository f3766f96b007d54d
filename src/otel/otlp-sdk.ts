import { createRequire } from 'node:module';
import { SpanKind, SpanStatusCode, type Tracer } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { BasicTracerProvider, BatchSpanProcessor, type ReadableSpan, type SpanExporter } from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';
import type { Logger } from '../log.js';
import type { OtlpExport, OtlpOptions } from './otlp-export.js';
import { exchangeSpan } from './span-attributes.js';

const VERSION = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;
/** Longest attribute value sent (content can be megabytes; collectors refuse large spans). */
const ATTRIBUTE_VALUE_LIMIT = 64 * 1024;
/** A collector that is down fails every batch; one log line per interval is enough. */
const ERROR_LOG_INTERVAL_MS = 60_000;

/**
 * Exports every recorded exchange as an OpenTelemetry span over OTLP/HTTP (JSON),
 * with the official SDK: a BatchSpanProcessor queues finished spans (bounded, drops
 * when full) and an OTLPTraceExporter posts them in batches on a timer, so a slow or
 * absent collector never holds a request. The provider is private to llmtap (not
 * registered globally): the proxy traces what it relays, not itself. Loaded only when
 * --otlp-endpoint is set (otlp-export.ts).
 */
export function startSdkExport(options: OtlpOptions): OtlpExport {
  const exporter = new LoggingExporter(new OTLPTraceExporter({ url: options.endpoint }), options.logger, new URL(options.endpoint).origin);
  const provider = new BasicTracerProvider({
    resource: resourceFromAttributes({ [ATTR_SERVICE_NAME]: 'llmtap', [ATTR_SERVICE_VERSION]: VERSION }),
    spanLimits: { attributeValueLengthLimit: ATTRIBUTE_VALUE_LIMIT },
    spanProcessors: [new BatchSpanProcessor(exporter, { scheduledDelayMillis: options.scheduledDelayMillis ?? 5000 })],
  });
  const tracer: Tracer = provider.getTracer('llmtap', VERSION);
  return {
    export(ex) {
      const data = exchangeSpan(ex, { content: options.content, redactor: options.redactor() });
      const span = tracer.startSpan(data.name, { kind: SpanKind.CLIENT, startTime: data.startTime, attributes: data.attributes });
      if (data.error !== undefined) span.setStatus({ code: SpanStatusCode.ERROR, message: data.error });
      span.end(data.endTime);
    },
    estimated: () => undefined, // spans wait for estimates in front of this (otlp-export.ts)
    shutdown: () => provider.shutdown(),
  };
}

/** Says (rate-limited) when the collector refuses or cannot be reached; the SDK itself stays silent. */
class LoggingExporter implements SpanExporter {
  #lastLog = -Infinity;

  constructor(private readonly inner: SpanExporter, private readonly logger: Logger, private readonly endpoint: string) {}

  export(spans: ReadableSpan[], done: Parameters<SpanExporter['export']>[1]): void {
    this.inner.export(spans, (result) => {
      if (result.code !== 0 && Date.now() - this.#lastLog >= ERROR_LOG_INTERVAL_MS) {
        this.#lastLog = Date.now();
        this.logger.warn({ endpoint: this.endpoint, spans: spans.length, err: result.error?.message }, 'OTLP export failed; spans dropped');
      }
      done(result);
    });
  }

  shutdown(): Promise<void> {
    return this.inner.shutdown();
  }

  forceFlush(): Promise<void> {
    return this.inner.forceFlush?.() ?? Promise.resolve();
  }
}
