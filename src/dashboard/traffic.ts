// PURE: live traffic of one service from its cumulative request counters (RequestStats, in
// http/request-stats.ts), read once per tick. Keeps the last `windowTicks` deltas (a fixed ring,
// no growth) and derives requests/s, errors by outcome and p50/p99 latency over that window.
// Percentiles come from the histogram's buckets: the upper bound of the bucket holding the quantile
// (what Prometheus' histogram_quantile would interpolate; the bound is honest about the buckets'
// resolution).

export interface TrafficReading {
  /** Requests by outcome, cumulative (ok, error, timeout, …). */
  outcomes: Readonly<Record<string, number>>;
  /** Duration histogram: bucket upper bounds in seconds, and per-bucket counts (last is +Inf). */
  bounds: readonly number[];
  counts: ArrayLike<number>;
}

export interface TrafficView {
  /** Finished requests per second over the window. */
  requests_per_s: number;
  /** Requests that did not end `ok`, per outcome, over the window. */
  errors: Record<string, number>;
  /** Milliseconds; null when no request finished in the window. */
  p50_ms: number | null;
  p99_ms: number | null;
  /** Requests finished since the relay started. */
  total: number;
}

interface Delta {
  seconds: number;
  outcomes: Record<string, number>;
  counts: number[];
}

export class TrafficWindow {
  readonly #windowTicks: number;
  readonly #ring: Delta[] = [];
  #last: { at: number; outcomes: Record<string, number>; counts: number[] } | undefined;
  #bounds: readonly number[] = [];

  constructor(windowTicks = 10) {
    this.#windowTicks = Math.max(1, windowTicks);
  }

  /** Takes a reading at `nowMs` and returns the view over the window. */
  tick(reading: TrafficReading, nowMs: number): TrafficView {
    const outcomes = { ...reading.outcomes };
    const counts = Array.from(reading.counts);
    this.#bounds = reading.bounds;
    const last = this.#last;
    if (last !== undefined && nowMs > last.at) {
      const delta: Delta = { seconds: (nowMs - last.at) / 1000, outcomes: {}, counts: [] };
      for (const [k, v] of Object.entries(outcomes))
        delta.outcomes[k] = v - (last.outcomes[k] ?? 0);
      delta.counts = counts.map((v, i) => v - (last.counts[i] ?? 0));
      this.#ring.push(delta);
      if (this.#ring.length > this.#windowTicks) this.#ring.shift();
    }
    this.#last = { at: nowMs, outcomes, counts };
    return this.view(Object.values(outcomes).reduce((a, b) => a + b, 0));
  }

  view(total: number): TrafficView {
    let seconds = 0;
    let finished = 0;
    const errors: Record<string, number> = {};
    const buckets = new Array<number>(this.#bounds.length + 1).fill(0);
    for (const d of this.#ring) {
      seconds += d.seconds;
      for (const [k, v] of Object.entries(d.outcomes)) {
        finished += v;
        if (k !== 'ok' && v > 0) errors[k] = (errors[k] ?? 0) + v;
      }
      d.counts.forEach((v, i) => (buckets[i] = (buckets[i] ?? 0) + v));
    }
    return {
      requests_per_s: seconds > 0 ? round(finished / seconds) : 0,
      errors,
      p50_ms: quantileMs(this.#bounds, buckets, 0.5),
      p99_ms: quantileMs(this.#bounds, buckets, 0.99),
      total,
    };
  }
}

/** The upper bound (ms) of the bucket holding quantile q; the last finite bound for +Inf. */
export function quantileMs(bounds: readonly number[], buckets: readonly number[], q: number) {
  const n = buckets.reduce((a, b) => a + b, 0);
  if (n <= 0) return null;
  const rank = q * n;
  let seen = 0;
  for (let i = 0; i < buckets.length; i++) {
    seen += buckets[i]!;
    if (seen >= rank) return round((bounds[Math.min(i, bounds.length - 1)] ?? 0) * 1000);
  }
  return round((bounds.at(-1) ?? 0) * 1000);
}

const round = (x: number) => Math.round(x * 100) / 100;
