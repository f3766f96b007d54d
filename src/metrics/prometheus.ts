import type { Counter, Histogram, Registry } from 'prom-client';
import type { PriceOverrides } from '../cost/override-match.js';
import type { Exchange } from '../exchange.js';
import { effectiveUpstream } from '../cost/effective-upstream.js';
import { lazyRequire } from '../lazy-require.js';
import type { priceOf } from '../recorder/row-cost.js';
import type { BudgetReportRow } from '../policy/budget-report.js';
import type { Redactor } from '../redact/redactor.js';
import { BoundedLabel, normaliseLabel, OTHER, statusClass } from './labels.js';
import { AwaitingEstimate } from '../recorder/awaiting-estimate.js';
import { mayEstimateUsage } from '../recorder/row-estimate.js';
import { stopErrorOf } from '../failed-exchange.js';
import type { EstimatedUsage } from '../recorder/writer.js';

/** prom-client is loaded when a registry is made (--metrics), not by every proxy that imports this module. */
const promClient = lazyRequire<typeof import('prom-client')>('prom-client');

/** What the proxy exposes for the gauges and counters read at scrape time. */
export interface MetricsSources {
  /** Errors and refusals llmtap answered with, by stable code (proxy/metrics.ts). */
  errors(): Readonly<Record<string, number>>;
  inFlight(): number;
  openConnections(): number;
  openWebSockets(): number;
  tunnels(): { opened: number; closed: number };
  archive(): { recorded: number; lost: number; pending: number; healthy: boolean };
  /** The --prices overrides the archive prices with, so the cost counter matches the archive. */
  prices(): PriceOverrides | undefined;
  /** The running policy's budget rules and their spend this period (none without a policy). */
  budgets(): readonly BudgetReportRow[];
  /**
   * The proxy's redactor: label values that come from the traffic (a model name, a user
   * agent's tool, a budget key) go through it as everything stored or logged does.
   */
  redactor?(): Redactor;
}

/** Caps on distinct label values (labels.ts); the rest read "other". Budget keys: per scrape, over all rules. */
export const LABEL_CAPS = { model: 100, tool: 50, api: 30, provider: 30, errorType: 30, budgetKey: 500 } as const;

const TOKEN_TYPES = ['input', 'output', 'cache_read', 'cache_write', 'reasoning'] as const;
const LATENCY_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const TTFT_BUCKETS = [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30];

type Inc = { inc(value?: number): void };
type Obs = { observe(value: number): void };
/** The children of one label combination, bound once: an exchange then costs a map lookup and plain adds. */
interface Bound {
  requests: Inc;
  tokens: Inc[];
  cost: Inc;
  latency: Obs;
  ttft: Obs;
}

/**
 * The `/metrics` registry (prom-client, its own Registry rather than the process-wide
 * default, so two proxies in one process never mix). Exchange counters move when a
 * finished exchange is handed to the archive (observe()); everything that is state
 * (queue depth, open sockets, error counts the proxy already keeps) is read at scrape time.
 * The cost counter prices as the archive does (row-cost.ts) with the price data, both
 * loaded here: `ready` resolves once they are (the proxy listens only then).
 */
export class PrometheusMetrics {
  readonly registry: Registry;
  readonly ready: Promise<void>;
  readonly #sources: MetricsSources;
  #priceOf: typeof priceOf | undefined;
  readonly #labels = {
    provider: new BoundedLabel(LABEL_CAPS.provider), api: new BoundedLabel(LABEL_CAPS.api),
    model: new BoundedLabel(LABEL_CAPS.model), tool: new BoundedLabel(LABEL_CAPS.tool),
    errorType: new BoundedLabel(LABEL_CAPS.errorType),
  };
  readonly #bound = new Map<string, Bound>();
  /** Series of exchanges whose answer reported no usage, until the archive reports its estimate (addEstimates). */
  readonly #awaiting = new AwaitingEstimate<Bound>();
  readonly #requests: Counter<string>;
  readonly #providerErrors: Counter<string>;
  readonly #tokens: Counter<string>;
  readonly #cost: Counter<string>;
  readonly #latency: Histogram<string>;
  readonly #ttft: Histogram<string>;

  constructor(sources: MetricsSources) {
    this.#sources = sources;
    const { Counter, Gauge, Histogram, Registry } = promClient();
    this.registry = new Registry();
    this.ready = import('../cost/load-pricing.js').then((m) => m.loadPricing()).then((p) => void (this.#priceOf = p.priceOf));
    const registers = [this.registry];
    const by = ['provider', 'model', 'tool'];
    this.#requests = new Counter({ name: 'llmtap_requests_total', help: 'Recorded LLM exchanges by provider, API, model, tool and HTTP status class (none: no answer).', labelNames: ['provider', 'api', 'model', 'tool', 'status_class'], registers });
    this.#providerErrors = new Counter({ name: 'llmtap_provider_errors_total', help: 'Recorded exchanges the provider ended with its own error after a 2xx went out (a stream\'s error event, response.failed), by its kind: failures llmtap_requests_total counts under status_class 2xx.', labelNames: ['provider', 'api', 'model', 'tool', 'type'], registers });
    this.#tokens = new Counter({ name: 'llmtap_tokens_total', help: 'Tokens as the provider reported them (as the archive estimated them for an answer that reported none), by type (input, output, cache_read, cache_write, reasoning).', labelNames: [...by, 'type'], registers });
    this.#cost = new Counter({ name: 'llmtap_cost_usd_total', help: 'Cost in USD as the archive prices it (API-equivalent for subscription traffic); unpriced exchanges add nothing.', labelNames: by, registers });
    this.#latency = new Histogram({ name: 'llmtap_request_duration_seconds', help: 'From the request reaching llmtap to the last byte of the answer.', labelNames: ['provider', 'model'], buckets: LATENCY_BUCKETS, registers });
    this.#ttft = new Histogram({ name: 'llmtap_time_to_first_token_seconds', help: 'Streamed requests: from the request reaching llmtap to the first byte of the answer body.', labelNames: ['provider', 'model'], buckets: TTFT_BUCKETS, registers });
    new Counter({
      name: 'llmtap_errors_total', help: 'Errors and refusals llmtap answered with, by llmtap error code (internal also counts a failure no code caught).', labelNames: ['code'], registers,
      collect() {
        this.reset();
        for (const [code, n] of Object.entries(sources.errors())) this.inc({ code: normaliseLabel(code) }, n);
      },
    });
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({ name, help, registers, collect() { this.set(read()); } });
    };
    const counter = (name: string, help: string, read: () => number): void => {
      new Counter({ name, help, registers, collect() { this.reset(); this.inc(read()); } });
    };
    new Gauge({
      name: 'llmtap_budget_limit_usd', help: 'Each budget rule of the running policy: the USD it allows per key and period.', labelNames: ['rule', 'period', 'per', 'mode'], registers,
      collect() {
        this.reset();
        for (const b of sources.budgets()) this.set({ rule: normaliseLabel(b.rule), period: b.period, per: b.per, mode: b.mode }, b.budgetUsd);
      },
    });
    new Gauge({
      name: 'llmtap_budget_spent_usd', help: 'Spend in the current period per budget rule and key (user:, team:, tool:, model:), as the running proxy charges it; 0 again when a period starts.', labelNames: ['rule', 'key'], registers,
      collect() {
        this.reset();
        const redactor = sources.redactor?.();
        for (const [labels, usd] of budgetSeries(sources.budgets(), redactor && ((key) => redactor.text(key)))) this.set(labels, usd);
      },
    });
    gauge('llmtap_exchanges_in_flight', 'Exchanges started and not finished.', () => sources.inFlight());
    gauge('llmtap_open_connections', 'Client connections open to the proxy port.', () => sources.openConnections());
    gauge('llmtap_open_websockets', 'WebSocket sessions being relayed.', () => sources.openWebSockets());
    gauge('llmtap_open_tunnels', 'CONNECT tunnels relayed without decryption, open now.', () => { const t = sources.tunnels(); return t.opened - t.closed; });
    counter('llmtap_tunnels_total', 'CONNECT tunnels opened (not decrypted).', () => sources.tunnels().opened);
    gauge('llmtap_archive_queue_depth', 'Records waiting to be written to the archive.', () => sources.archive().pending);
    counter('llmtap_archive_records_written_total', 'Records written to the archive.', () => sources.archive().recorded);
    counter('llmtap_archive_records_lost_total', 'Records the archive could not keep (write failed, queue full).', () => sources.archive().lost);
    gauge('llmtap_archive_healthy', '1 while archive writes succeed, 0 after a failed write.', () => (sources.archive().healthy ? 1 : 0));
  }

  #redacted(value: string | undefined): string | undefined {
    const redactor = this.#sources.redactor?.();
    return value === undefined || !redactor ? value : redactor.text(value);
  }

  /** One finished, recorded exchange. Runs on the event loop after the client has its answer. */
  observe(ex: Exchange): void {
    const reassembled = ex.response?.reassembled;
    // A routed exchange counts where it went (the upstream that answered, the model it was sent), as it is priced.
    const routed = effectiveUpstream(ex);
    const provider = this.#labels.provider.value(routed ? routed.provider : ex.provider);
    const api = this.#labels.api.value(ex.api);
    const model = this.#labels.model.value(this.#redacted(reassembled?.model ?? routed?.model ?? ex.request.model));
    const tool = this.#labels.tool.value(this.#redacted(ex.tool?.name));
    const status = statusClass(ex.response?.status);
    const key = `${provider}\n${api}\n${model}\n${tool}\n${status}`;
    let bound = this.#bound.get(key);
    if (!bound) {
      bound = {
        requests: this.#requests.labels({ provider, api, model, tool, status_class: status }),
        tokens: TOKEN_TYPES.map((type) => this.#tokens.labels({ provider, model, tool, type })),
        cost: this.#cost.labels({ provider, model, tool }),
        latency: this.#latency.labels({ provider, model }),
        ttft: this.#ttft.labels({ provider, model }),
      };
      this.#bound.set(key, bound);
    }
    bound.requests.inc();
    // The archive's view of the failure: the rule every reader applies (failed-exchange.ts) to the stop
    // reason as the row stores it, redacted. Final at hand-over: the writer never changes it, and such an
    // answer is never estimated (mayEstimateUsage), so nothing about it waits for the archive.
    const stop = reassembled?.stopReason;
    // Redacted only when it is an error (redaction only takes text away, so it cannot make one).
    const kind = stop === undefined || stopErrorOf(ex.response?.status, stop) === null ? null : stopErrorOf(ex.response?.status, this.#redacted(stop));
    if (kind !== null) this.#providerErrors.inc({ provider, api, model, tool, type: this.#labels.errorType.value(kind) });
    const usage = ex.usage ?? reassembled?.usage;
    if (usage) {
      const counts = [usage.inputTokens, usage.outputTokens, usage.cachedInputTokens, usage.cacheCreationInputTokens, usage.reasoningTokens];
      for (let i = 0; i < counts.length; i++) {
        const n = counts[i];
        if (n !== undefined && n > 0 && Number.isFinite(n)) bound.tokens[i]!.inc(n);
      }
      const usd = this.#priceOf?.(ex, this.#sources.prices())?.usd;
      if (usd !== undefined && usd !== null && usd > 0 && Number.isFinite(usd)) bound.cost.inc(usd);
    }
    // What the archive estimates on top (all of it, or an Anthropic stream's output past message_start) comes later.
    if (mayEstimateUsage(ex)) this.#awaiting.hold(ex.id, bound);
    const { start, firstByte, end } = ex.timings;
    if (end !== undefined && !ex.websocket) bound.latency.observe(Math.max(0, end - start) / 1000);
    if (ex.request.stream && firstByte !== undefined) bound.ttft.observe(Math.max(0, firstByte - start) / 1000);
  }

  /** The usage and price the archive estimated for exchanges observed without usage (Recorder.onEstimated); `none` will get no estimate. */
  addEstimates(estimates: readonly EstimatedUsage[], none: readonly string[] = []): void {
    for (const id of none) this.#awaiting.take(id);
    for (const e of estimates) {
      const bound = this.#awaiting.take(e.id);
      if (!bound) continue;
      if (e.inputTokens > 0) bound.tokens[0]!.inc(e.inputTokens);
      if (e.outputTokens > 0) bound.tokens[1]!.inc(e.outputTokens);
      if (e.usd !== null && e.usd > 0 && Number.isFinite(e.usd)) bound.cost.inc(e.usd);
    }
  }

  /** Exchanges whose series wait for the archive's estimate (diagnostics and tests). */
  get awaitingEstimates(): number {
    return this.#awaiting.size;
  }

  /** The exposition text (Prometheus text format 0.0.4). */
  render(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}

/**
 * The spend gauge's series: one per rule and key, the keys of one scrape capped at
 * LABEL_CAPS.budgetKey over all rules (a budget `per: user` on an open gateway has a key
 * per client address); past the cap a rule's keys are summed as "other". Pure.
 */
export function budgetSeries(budgets: readonly BudgetReportRow[], redact: (key: string) => string = (key) => key): [labels: { rule: string; key: string }, usd: number][] {
  const sums = new Map<string, number>();
  let keys = 0;
  for (const b of budgets) {
    for (const k of b.keys) {
      const key = keys < LABEL_CAPS.budgetKey ? normaliseLabel(redact(k.key)) : OTHER;
      keys++;
      const id = `${normaliseLabel(b.rule)}\n${key}`;
      sums.set(id, (sums.get(id) ?? 0) + k.spentUsd);
    }
  }
  return [...sums].map(([id, usd]) => {
    const [rule, key] = id.split('\n') as [string, string];
    return [{ rule, key }, usd];
  });
}
