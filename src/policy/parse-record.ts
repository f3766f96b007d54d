import type { PolicyRecord } from './types.js';

/** The archive's policy column, parsed; undefined when no rule decided anything (or the JSON is not a record). */
export function parsePolicy(json: string | null | undefined): PolicyRecord | undefined {
  if (!json) return undefined;
  try {
    const value = JSON.parse(json) as PolicyRecord;
    return Array.isArray(value?.decisions) ? value : undefined;
  } catch {
    return undefined;
  }
}
