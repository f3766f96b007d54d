import type { CacheRule } from './cache-rule.js';
import { ResponseCache, type CacheEntry } from './response-cache.js';

/** What the archive's writer thread is asked to do with the durable copy (cache-table.ts). */
export interface CachePersistence {
  put(entry: CacheEntry): void;
  delete(keys: string[]): void;
}

/**
 * The live caches, one per cache rule id, kept across policy reloads for rules that
 * stay (their bounds follow the new file); the caches of removed rules are dropped.
 */
export class ResponseCaches {
  readonly #byRule = new Map<string, ResponseCache>();

  constructor(private readonly now: () => number = Date.now) {}

  for(rule: CacheRule): ResponseCache {
    let cache = this.#byRule.get(rule.id);
    if (!cache) this.#byRule.set(rule.id, (cache = new ResponseCache(rule.bounds, this.now)));
    return cache;
  }

  /** After a reload: keeps the caches of rules still there (new bounds enforced), forgets the rest. Returns evicted keys. */
  retain(rules: readonly CacheRule[]): string[] {
    const evicted: string[] = [];
    const live = new Map(rules.map((r) => [r.id, r]));
    for (const [id, cache] of this.#byRule) {
      const rule = live.get(id);
      if (!rule) {
        this.#byRule.delete(id);
        continue;
      }
      cache.bounds = rule.bounds;
      evicted.push(...cache.enforce());
    }
    return evicted;
  }

  /** Entries read back from the archive at start (newest last), into the rules that still exist. */
  load(rules: readonly CacheRule[], entries: Iterable<CacheEntry>): number {
    const byId = new Map(rules.map((r) => [r.id, r]));
    let loaded = 0;
    for (const e of entries) {
      const rule = byId.get(e.rule);
      if (rule && this.for(rule).set(e).stored) loaded++;
    }
    return loaded;
  }
}
