import type { Socket } from 'node:net';
import { classifyUpstreamError, type ErrorCode } from '../errors.js';
import type { Exchange, RawHeaders } from '../exchange.js';
import type { Logger } from '../log.js';
import type { CompiledPolicy } from '../policy/compile.js';
import type { Hop, RoutingPlan } from '../policy/routing.js';
import type { Attempt, MatchFacts } from '../policy/types.js';
import type { Redactor } from '../redact/redactor.js';
import { credentialsForHop, logFallback } from './fallback.js';
import { requestForHop } from './hop-request.js';
import type { UpstreamPools } from './upstream.js';

export interface PlannedUpgrade {
  pools: UpstreamPools;
  policy: CompiledPolicy;
  facts: MatchFacts;
  plan: RoutingPlan;
  logger: Logger;
  redactor: Redactor;
}

export type DialedUpgrade =
  | { ok: true; socket: Socket; path: string; headers: RawHeaders; hop: Hop }
  | { ok: false; code: ErrorCode; error: unknown; hop: Hop };

/**
 * Dials the upstream of a WebSocket upgrade along a routing plan: the route's origin
 * and path prefix, the credential each upstream gets (the client's credential headers
 * and `?key=` go when one is injected, and from any other origin), and the next fallback upstream when the dial
 * fails to connect. Once an upstream answers, its answer (101 or not) is the client's:
 * a status cannot be retried after the upgrade, so `on: [429, 5xx]` does not apply, and
 * the model of a route is not rewritten (it travels in the query or in the messages).
 */
export async function dialPlanned(up: PlannedUpgrade, ex: Exchange, path: string, headers: RawHeaders): Promise<DialedUpgrade> {
  const { plan } = up;
  const record = ex.policy ?? { decisions: [] };
  const attempts: Attempt[] = [];
  let outcome: DialedUpgrade | undefined;
  let withheld: string[] | undefined;
  for (let i = 0; i < plan.hops.length && !outcome; i++) {
    const hop: Hop = { ...plan.hops[i]!, model: undefined };
    const req = requestForHop({ method: 'GET', path, headers, body: null, chunked: false }, hop, credentialsForHop(up, hop, record, i > 0));
    if (i === 0) withheld = req.withheld;
    try {
      const socket = await up.pools.dial(hop.origin.tls, hop.origin.host, hop.origin.port, hop.explicit);
      attempts.push({ upstream: hop.origin.label, result: 'answered', ...(req.withheld ? { withheld: req.withheld } : {}) });
      outcome = { ok: true, socket, path: req.path, headers: req.headers, hop };
    } catch (error) {
      const code = classifyUpstreamError(error);
      const retry = code === 'upstream_unreachable' && plan.triggers?.connectError === true && i + 1 < plan.hops.length;
      attempts.push({ upstream: hop.origin.label, error: code, result: retry ? 'retried' : 'failed', ...(req.withheld ? { withheld: req.withheld } : {}) });
      if (retry) logFallback(up, ex, attempts[attempts.length - 1]!, plan.hops[i + 1]!);
      else outcome = { ok: false, code, error, hop };
    }
  }
  // The model goes up as the client named it (see above): the record says so.
  if (record.route) record.route.to.model = record.route.from.model;
  // As for a request (fallback.ts): what a route's other origin did not get of the client's credentials.
  if (record.route && withheld) record.route.to.withheld = withheld;
  if (plan.triggers) record.attempts = attempts;
  if (record.decisions.length > 0 || record.attempts) ex.policy = record;
  return outcome!;
}

/** The status the upstream that was dialled answered the upgrade with, on its attempt. */
export function noteUpgradeStatus(ex: Exchange, status: number): void {
  const last = ex.policy?.attempts?.at(-1);
  if (last && last.result === 'answered') last.status = status;
}
