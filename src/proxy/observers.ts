import type { ProxyConfig } from '../config.js';
import type { Logger } from '../log.js';
import { PrometheusMetrics, type MetricsSources } from '../metrics/prometheus.js';
import { startOtlpExport, type OtlpExport } from '../otel/otlp-export.js';
import type { Recorder } from '../recorder/recorder.js';
import type { Redactor } from '../redact/redactor.js';

/**
 * Prometheus (--metrics) and OTLP spans (--otlp-endpoint), each fed by the
 * recorder's exchange observers; neither exists, nor costs anything, when off.
 */
export function startObservers(config: ProxyConfig, recorder: Recorder, logger: Logger, redactor: () => Redactor, gauges: MetricsSources): { prometheus?: PrometheusMetrics; otlp?: OtlpExport } {
  let prometheus: PrometheusMetrics | undefined;
  if (config.metrics) {
    const metrics = new PrometheusMetrics(gauges);
    recorder.onExchange((ex) => metrics.observe(ex));
    recorder.onEstimated((estimates, none) => metrics.addEstimates(estimates, none));
    prometheus = metrics;
  }
  let otlp: OtlpExport | undefined;
  if (config.otlpEndpoint) {
    const exporter = startOtlpExport({ endpoint: config.otlpEndpoint, content: config.otlpContent === true, redactor, logger });
    recorder.onExchange((ex) => exporter.export(ex));
    recorder.onEstimated((estimates, none) => exporter.estimated(estimates, none));
    otlp = exporter;
  }
  return { prometheus, otlp };
}
