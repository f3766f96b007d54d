import { ConfigError } from '../config-error.js';

export interface RateLimitSpec {
  /** Requests allowed per window (also the burst size). */
  limit: number;
  windowMs: number;
}

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000 };

/** Parses `N/DURATION` such as `60/1m`, `5/s`, `1000/1h`. */
export function parseRateLimit(spec: string): RateLimitSpec {
  const m = /^(\d+)\/(\d*)(s|m|h)$/.exec(spec.trim());
  const limit = Number(m?.[1]);
  const windowMs = Number(m?.[2] || 1) * (UNITS[m?.[3] ?? ''] ?? NaN);
  if (!m || !(limit > 0) || !(windowMs > 0)) throw new ConfigError(`--rate-limit "${spec}": expected N/DURATION, e.g. 60/1m, 5/s, 1000/1h`);
  return { limit, windowMs };
}

export type RateDecision = { ok: true } | { ok: false; retryAfterSeconds: number };

/** The answer of every check that passes (one object: this runs on every limited request). */
const OK: RateDecision = Object.freeze({ ok: true });

/**
 * Token buckets, one per key (client and provider host): `limit` tokens refilled
 * evenly over the window. The number of keys is bounded; the least recently
 * used bucket is forgotten first (a forgotten bucket starts full again).
 */
export class RateLimiter {
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** The key used last: already at the end of the LRU order, so it is not moved again. */
  private newest: string | undefined;

  constructor(private readonly spec: RateLimitSpec, private readonly now: () => number = Date.now, private readonly maxKeys = 100_000) {}

  take(key: string, cost = 1): RateDecision {
    const bucket = this.refill(key);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return OK;
    }
    return { ok: false, retryAfterSeconds: this.waitSeconds(cost - bucket.tokens) };
  }

  /**
   * Checks that `cost` tokens are there without taking them (a token budget is
   * pre-checked from the request's `max_tokens`, then charged what was really used).
   * A cost above the bucket's size only needs a full bucket.
   */
  check(key: string, cost: number): RateDecision {
    const bucket = this.refill(key);
    const need = Math.min(cost, this.spec.limit);
    if (bucket.tokens > 0 && bucket.tokens >= need) return OK;
    return { ok: false, retryAfterSeconds: this.waitSeconds(need - bucket.tokens) };
  }

  /** Takes what an exchange really cost, after the fact; the bucket may go below zero (later requests wait). */
  charge(key: string, amount: number): void {
    if (amount > 0) this.refill(key).tokens -= amount;
  }

  private refill(key: string): { tokens: number; at: number } {
    const t = this.now();
    let bucket = this.buckets.get(key);
    if (bucket === undefined) {
      bucket = { tokens: this.spec.limit, at: t };
      this.buckets.set(key, bucket);
      if (this.buckets.size > this.maxKeys) this.buckets.delete(this.buckets.keys().next().value!);
    } else if (key !== this.newest) {
      // Least recently used first: a bucket used again moves to the end (a Map keeps insertion order).
      this.buckets.delete(key);
      this.buckets.set(key, bucket);
    }
    this.newest = key;
    bucket.tokens = Math.min(this.spec.limit, bucket.tokens + (t - bucket.at) * (this.spec.limit / this.spec.windowMs));
    bucket.at = t;
    return bucket;
  }

  private waitSeconds(deficit: number): number {
    // Multiply before dividing, and forgive float dust, so 1/1h says 3600 and not 3601.
    const waitSeconds = (deficit * this.spec.windowMs) / this.spec.limit / 1000;
    return Math.max(1, Math.ceil(waitSeconds - 1e-9));
  }
}
