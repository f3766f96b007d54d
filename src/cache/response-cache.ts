/** One stored answer: what a hit replays. */
export interface CacheEntry {
  key: string;
  /** The cache rule whose entries these are (each rule has its own bounds). */
  rule: string;
  status: number;
  contentType: string;
  /** The answer's body with its content coding undone (SSE text as framed by the provider). */
  body: Buffer;
  /** Epoch ms. */
  storedAt: number;
  expiresAt: number;
  /** The exchange whose answer this is. */
  exchangeId: string;
}

export interface CacheBounds {
  ttlMs: number;
  maxEntries: number;
  maxBytes: number;
}

/** Used when a rule names no bound: enough for a team's repeated prompts, small next to the proxy. */
export const DEFAULT_MAX_ENTRIES = 1000;
export const DEFAULT_MAX_BYTES = 32 * 1024 * 1024;

/** How often an insert sweeps expired entries out when the cache is within its bounds. */
const SWEEP_EVERY_MS = 1000;

/**
 * The answers of one cache rule, in memory: a Map in least-recently-used order
 * (a hit moves its entry to the end). A lookup is one Map read, so a miss costs
 * nothing measurable on the hot path. TTL is checked on lookup (an expired entry is
 * never served); expired entries are swept out on an insert at most once per
 * SWEEP_EVERY_MS, and always before the bounds evict (an expired entry never costs a
 * live one its place), so an insert into a cache within its bounds does not walk
 * every entry. Entries over the bounds are evicted oldest-used first. The archive
 * table (cache-table.ts) is the durable copy, written by the archive's writer thread
 * and read back at start.
 */
export class ResponseCache {
  readonly #entries = new Map<string, CacheEntry>();
  #bytes = 0;
  #nextSweep = 0;

  constructor(public bounds: CacheBounds, private readonly now: () => number = Date.now) {}

  get size(): number {
    return this.#entries.size;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** A live entry (and marks it used), or undefined; an expired one is dropped. */
  get(key: string): CacheEntry | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= this.now()) {
      this.#delete(key, entry);
      return undefined;
    }
    this.#entries.delete(key);
    this.#entries.set(key, entry);
    return entry;
  }

  has(key: string): boolean {
    const entry = this.#entries.get(key);
    return entry !== undefined && entry.expiresAt > this.now();
  }

  /**
   * Stores an entry; returns the keys evicted to make room (the caller deletes them
   * from the archive too). An entry larger than maxBytes by itself is not kept.
   */
  set(entry: CacheEntry): { stored: boolean; evicted: string[] } {
    const evicted: string[] = [];
    if (entry.body.length > this.bounds.maxBytes || entry.expiresAt <= this.now()) return { stored: false, evicted };
    const old = this.#entries.get(entry.key);
    if (old) this.#delete(entry.key, old);
    this.#entries.set(entry.key, entry);
    this.#bytes += entry.body.length;
    const over = this.#entries.size > this.bounds.maxEntries || this.#bytes > this.bounds.maxBytes;
    if (over || this.now() >= this.#nextSweep) evicted.push(...this.enforce());
    return { stored: true, evicted };
  }

  /** Drops expired entries and, oldest-used first, what is over the bounds (after a bounds change, too). */
  enforce(): string[] {
    const evicted: string[] = [];
    const t = this.now();
    this.#nextSweep = t + SWEEP_EVERY_MS;
    for (const [key, e] of this.#entries) {
      if (e.expiresAt <= t) {
        this.#delete(key, e);
        evicted.push(key);
      }
    }
    for (const [key, e] of this.#entries) {
      if (this.#entries.size <= this.bounds.maxEntries && this.#bytes <= this.bounds.maxBytes) break;
      this.#delete(key, e);
      evicted.push(key);
    }
    return evicted;
  }

  #delete(key: string, entry: CacheEntry): void {
    this.#entries.delete(key);
    this.#bytes -= entry.body.length;
  }
}

const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** `90s`, `10m`, `2h`, `1d` → milliseconds; undefined when not a duration. */
export function parseTtl(text: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(ms|s|m|h|d)$/.exec(text.trim());
  if (!m) return undefined;
  const ms = Number(m[1]) * UNIT_MS[m[2]!]!;
  return ms > 0 && Number.isFinite(ms) ? ms : undefined;
}
