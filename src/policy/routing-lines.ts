import type { Attempt, PolicyRecord, RouteEnd } from './types.js';

/**
 * The routing part of an exchange's stored policy decision, as lines for `show`:
 * where the request was meant to go and where it went, and every upstream tried.
 * Reads the archive's `policy` column (JSON text, null when no rule matched).
 */
export function routingLines(policyColumn: string | null | undefined): string[] {
  if (!policyColumn) return [];
  let record: PolicyRecord;
  try {
    record = JSON.parse(policyColumn) as PolicyRecord;
  } catch {
    return [];
  }
  const lines: string[] = [];
  const tried = record.attempts && record.attempts.length > 0 ? record.attempts : undefined;
  // With attempts, each names what it held back; the route's `to` would say it twice.
  if (record.route) lines.push(`routed: ${end(record.route.from)} → ${end(tried ? { ...record.route.to, withheld: undefined } : record.route.to)}`);
  if (tried) lines.push(`attempts: ${tried.map(attempt).join(' → ')}`);
  return lines;
}

function end(e: RouteEnd): string {
  return `${e.model === undefined ? e.upstream : `${e.upstream} ${e.model}`}${withheld(e.withheld)}`;
}

function attempt(a: Attempt): string {
  return `${[a.upstream, a.model, a.status, a.error, a.result].filter((p) => p !== undefined).join(' ')}${withheld(a.withheld)}`;
}

/** The client's credentials held back from another origin: why it may have answered 401 (names only). */
function withheld(names: readonly string[] | undefined): string {
  return names && names.length > 0 ? ` (client's ${names.join(', ')} withheld)` : '';
}
