import { compileOverride, type PriceOverrides } from '../cost/override-match.js';
import type { PriceOverridesData } from './protocol.js';

/**
 * --prices overrides as they cross to the writer thread (plain data: compiled patterns do
 * not survive structured cloning) and back. Apart from row-cost.ts so the proxy's main
 * thread does not load the price data to hand them over.
 */
export function overridesData(overrides: PriceOverrides | undefined): PriceOverridesData | null {
  return overrides ? { file: overrides.file, version: overrides.version, rules: overrides.entries.map((e) => e.rule) } : null;
}

export function compileOverrides(data: PriceOverridesData | null): PriceOverrides | undefined {
  if (!data) return undefined;
  return { file: data.file, version: data.version, entries: data.rules.map(compileOverride) };
}
