// Token-bucket rate limiting per client key (rate_limiting.requests_per_minute). Each key's bucket
// holds up to `requests_per_minute` tokens and refills continuously at requests_per_minute / 60 per
// second; a request takes one token or is refused with the time until one is back. Buckets that
// have refilled completely carry no state and are dropped, so memory follows the active clients,
// with a hard bound on keys. PURE apart from the injectable clock.

export type RateDecision = { ok: true } | { ok: false; retryAfterMs: number };

const ALLOWED: RateDecision = { ok: true };
const MAX_KEYS = 100_000;

interface Bucket {
  tokens: number;
  /** Clock reading of the last refill, in ms. */
  at: number;
}

export class RateLimiter {
  readonly #capacity: number;
  /** Tokens per ms. */
  readonly #rate: number;
  readonly #now: () => number;
  readonly #buckets = new Map<string, Bucket>();
  #lastSweep = 0;

  constructor(requestsPerMinute: number, now: () => number = () => performance.now()) {
    this.#capacity = Math.max(1, requestsPerMinute);
    this.#rate = this.#capacity / 60_000;
    this.#now = now;
    this.#lastSweep = now();
  }

  get size(): number {
    return this.#buckets.size;
  }

  /** Takes one token from `key`'s bucket. */
  take(key: string): RateDecision {
    const now = this.#now();
    let bucket = this.#buckets.get(key);
    if (bucket === undefined) {
      this.#maybeSweep(now);
      bucket = { tokens: this.#capacity, at: now };
      this.#buckets.set(key, bucket);
    } else {
      bucket.tokens = Math.min(this.#capacity, bucket.tokens + (now - bucket.at) * this.#rate);
      bucket.at = now;
    }
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return ALLOWED;
    }
    return { ok: false, retryAfterMs: Math.max(1, Math.ceil((1 - bucket.tokens) / this.#rate)) };
  }

  /** Drops buckets that are full again (at most once per refill period, or when at the bound). */
  #maybeSweep(now: number): void {
    const fullAfterMs = 60_000;
    if (this.#buckets.size < MAX_KEYS && now - this.#lastSweep < fullAfterMs) return;
    this.#lastSweep = now;
    for (const [key, bucket] of this.#buckets) {
      if (bucket.tokens + (now - bucket.at) * this.#rate >= this.#capacity) {
        this.#buckets.delete(key);
      }
    }
    // Still at the bound (that many clients within a minute): forget the least recently added.
    let excess = this.#buckets.size - MAX_KEYS + 1;
    for (const key of this.#buckets.keys()) {
      if (excess-- <= 0) break;
      this.#buckets.delete(key);
    }
  }
}
