/** Where a load balancer or an orchestrator asks whether to send this proxy traffic. */
export const HEALTH_PATH = '/healthz';

export interface HealthFacts {
  /** SIGTERM/SIGINT received: finishing what is in flight, taking nothing new. */
  draining: boolean;
  /** --fail-closed: intercepted requests are refused while the archive cannot be written. */
  failClosed: boolean;
  archiveHealthy: boolean;
}

export interface Health {
  httpStatus: 200 | 503;
  body: { status: 'ok' | 'draining' | 'archive_unavailable'; archive: 'ok' | 'failing' };
}

/**
 * Whether new traffic should come here (pure). 503 when it would not be served: the proxy
 * is draining, or its archive is failing under --fail-closed (every intercepted request
 * would get 503). A failing archive without --fail-closed still forwards everything
 * (fail-open), so the answer is 200 and says the archive is failing.
 */
export function healthOf(facts: HealthFacts): Health {
  const archive = facts.archiveHealthy ? 'ok' : 'failing';
  if (facts.draining) return { httpStatus: 503, body: { status: 'draining', archive } };
  if (facts.failClosed && !facts.archiveHealthy) return { httpStatus: 503, body: { status: 'archive_unavailable', archive } };
  return { httpStatus: 200, body: { status: 'ok', archive } };
}
