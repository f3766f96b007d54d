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
