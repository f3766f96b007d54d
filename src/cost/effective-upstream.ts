import type { Exchange, ProviderId } from '../exchange.js';
import { originOf } from '../policy/routing.js';
import { identifyRequest } from '../providers/registry.js';

/** Where a routed exchange really went: the upstream that answered and the model it was sent. */
export interface EffectiveUpstream {
  host: string;
  port: number;
  provider?: ProviderId;
  /** Absent: the body went with the model the client named. */
  model?: string;
}

/** What effectiveUpstream reads of an exchange (an archived row gives the same: cost/unpriced-reason.ts). */
export type RoutedFacts = Pick<Exchange, 'policy' | 'target' | 'provider'> & { request: Pick<Exchange['request'], 'model' | 'path'> };

/**
 * The upstream that answered an exchange a route or fallback rule sent elsewhere
 * (pure; from the record, so the writer thread and the main thread agree). The last
 * attempt answered when a fallback rule applied, else the route's target. Undefined
 * when the request went where the client sent it with its own model: nothing to
 * change. `ex.target` and `ex.provider` keep what the client asked for.
 */
export function effectiveUpstream(ex: RoutedFacts): EffectiveUpstream | undefined {
  const record = ex.policy;
  if (!record?.route && !record?.attempts?.length) return undefined;
  const last = record.attempts?.[record.attempts.length - 1];
  const label = last?.upstream ?? record.route!.to.upstream;
  // An attempt names its model only when the body was rewritten for it.
  const model = last ? last.model : record.route!.to.model;
  const rewritten = model !== undefined && model !== ex.request.model ? model : undefined;
  if (label === originOf(ex.target).label) return rewritten === undefined ? undefined : { host: ex.target.host, port: ex.target.port, provider: ex.provider, model: rewritten };
  let url: URL;
  try {
    url = new URL(label);
  } catch {
    return undefined; // a record from another build: priced as the client asked
  }
  const tls = url.protocol === 'https:';
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : tls ? 443 : 80;
  const { provider } = identifyRequest(host, port, ex.request.path);
  return { host, port, ...(provider ? { provider } : {}), ...(rewritten ? { model: rewritten } : {}) };
}
