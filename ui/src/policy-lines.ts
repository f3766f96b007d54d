import { decisionLines } from '../../src/cli/render/policy-text.js';
import type { PolicyRecord } from '../../src/policy/types.js';

/**
 * A policy record's decisions as `llmtap show` words them (the same pure renderer, bundled).
 * A record this build cannot read (another build's, a damaged column) has no lines: the
 * page shows its JSON instead.
 */
export function policyLines(record: unknown): string[] | null {
  if (!record || typeof record !== 'object' || !Array.isArray((record as { decisions?: unknown }).decisions)) return null;
  try {
    return decisionLines(record as PolicyRecord);
  } catch {
    return null;
  }
}

/**
 * Which decisions, by index (the first lines of policyLines, in order), a rule made but
 * could not apply: a field `notApplied` or `…NotApplied` holding the reason (a clamp or a
 * route model on a SigV4-signed request). Any such field counts, so a newer build's is set
 * apart too.
 */
export function notAppliedAt(record: unknown): boolean[] {
  const decisions = (record as { decisions?: unknown } | null)?.decisions;
  if (!Array.isArray(decisions)) return [];
  return decisions.map((d) => d !== null && typeof d === 'object' && Object.entries(d as Record<string, unknown>).some(([k, v]) => /^(notApplied|\w+NotApplied)$/.test(k) && typeof v === 'string'));
}
