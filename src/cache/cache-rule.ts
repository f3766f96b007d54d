import { RuleError, type Matcher } from '../policy/match.js';
import type { CacheRuleSpec, Mode } from '../policy/types.js';
import { DEFAULT_MAX_BYTES, DEFAULT_MAX_ENTRIES, parseTtl, type CacheBounds } from './response-cache.js';

/** A compiled cache rule (policy file `cache:`). */
export interface CacheRule {
  kind: 'cache';
  id: string;
  mode: Mode;
  match: Matcher;
  bounds: CacheBounds;
  /** Body conditions: the request's `temperature` must be one of these (absent: any request). */
  temperatures?: number[];
}

export function compileCacheRule(base: { id: string; mode: Mode; match: Matcher }, spec: CacheRuleSpec, path: (string | number)[]): CacheRule {
  const ttlMs = parseTtl(spec.ttl);
  if (ttlMs === undefined) throw new RuleError([...path, 'ttl'], `"${spec.ttl}" is not a duration (90s, 10m, 2h, 1d)`);
  const t = spec.when?.temperature;
  return {
    ...base,
    kind: 'cache',
    bounds: { ttlMs, maxEntries: spec.maxEntries ?? DEFAULT_MAX_ENTRIES, maxBytes: spec.maxBytes ?? DEFAULT_MAX_BYTES },
    temperatures: t === undefined ? undefined : Array.isArray(t) ? t : [t],
  };
}

/**
 * The body conditions of a rule. A request that names no temperature runs at the
 * provider's default (not 0), so `when: {temperature: 0}` does not select it.
 */
export function bodyMatches(rule: CacheRule, body: unknown): boolean {
  if (!rule.temperatures) return true;
  const t = requestTemperature(body);
  return t !== undefined && rule.temperatures.includes(t);
}

/** Where each API puts the sampling temperature (top level; Gemini, Bedrock Converse, Ollama nest it). */
export function requestTemperature(body: unknown): number | undefined {
  if (!body || typeof body !== 'object') return undefined;
  const b = body as Record<string, Record<string, unknown> | undefined | unknown>;
  const candidates = [
    b.temperature,
    (b.generationConfig as Record<string, unknown> | undefined)?.temperature,
    (b.inferenceConfig as Record<string, unknown> | undefined)?.temperature,
    (b.options as Record<string, unknown> | undefined)?.temperature,
  ];
  for (const c of candidates) if (typeof c === 'number') return c;
  return undefined;
}
