// A log-linear (HDR-style) histogram of non-negative integers. PURE: no I/O, no clock.
// Values below 2·SUB are counted exactly; above, each power of two is split into SUB equal
// buckets, so a bucket is at most 1/SUB (0.78 %) of its values wide and a reported percentile,
// the middle of its bucket, is within 0.4 % of the true value. Memory is fixed (a few thousand
// counters) whatever is recorded; values past the highest trackable one are clamped to it.
// The load test records latencies in nanoseconds: 1 ns to 2^40 ns (about 18 minutes).

/** Sub-buckets per power of two (2^SUB_BITS). */
const SUB_BITS = 7;
const SUB = 1 << SUB_BITS;

export interface HistogramSnapshot {
  count: number;
  min: number;
  max: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
}

export class Histogram {
  /** The largest value kept as is; larger ones are recorded as this. */
  readonly highestTrackable: number;
  readonly #counts: Float64Array;
  #count = 0;
  #sum = 0;
  #min = Infinity;
  #max = 0;

  /** `highestBits`: values up to 2^highestBits − 1 are tracked (default 40, at most 52). */
  constructor(highestBits = 40) {
    if (!Number.isInteger(highestBits) || highestBits <= SUB_BITS || highestBits > 52) {
      throw new RangeError(`highestBits must be an integer in ${SUB_BITS + 1}..52`);
    }
    this.highestTrackable = 2 ** highestBits - 1;
    this.#counts = new Float64Array(indexOf(this.highestTrackable) + 1);
  }

  get count(): number {
    return this.#count;
  }
  get min(): number {
    return this.#count === 0 ? 0 : this.#min;
  }
  get max(): number {
    return this.#max;
  }
  get mean(): number {
    return this.#count === 0 ? 0 : this.#sum / this.#count;
  }

  /** Counts `value` (rounded to an integer, negative as 0) `times` times. */
  record(value: number, times = 1): void {
    let v = Math.round(value);
    if (!(v > 0)) v = 0; // also NaN
    if (v > this.highestTrackable) v = this.highestTrackable;
    this.#counts[indexOf(v)]! += times;
    this.#count += times;
    this.#sum += v * times;
    if (v < this.#min) this.#min = v;
    if (v > this.#max) this.#max = v;
  }

  /**
   * The value at percentile `p` (0–100): the smallest recorded value with at least p % of the
   * values at or below it, to within its bucket (reported as the bucket's middle, clamped to
   * the exact min and max). 0 for an empty histogram.
   */
  percentile(p: number): number {
    if (this.#count === 0) return 0;
    if (p <= 0) return this.#min;
    if (p >= 100) return this.#max;
    const rank = Math.max(1, Math.ceil((p / 100) * this.#count));
    let seen = 0;
    const counts = this.#counts;
    for (let i = 0; i < counts.length; i++) {
      seen += counts[i]!;
      if (seen >= rank) return Math.min(this.#max, Math.max(this.#min, middleOf(i)));
    }
    return this.#max;
  }

  /** Adds every value of `other` (which must track the same range). */
  merge(other: Histogram): void {
    if (other.#counts.length !== this.#counts.length) {
      throw new RangeError('cannot merge histograms of different ranges');
    }
    for (let i = 0; i < other.#counts.length; i++) this.#counts[i]! += other.#counts[i]!;
    this.#count += other.#count;
    this.#sum += other.#sum;
    if (other.#count > 0) {
      this.#min = Math.min(this.#min, other.#min);
      this.#max = Math.max(this.#max, other.#max);
    }
  }

  reset(): void {
    this.#counts.fill(0);
    this.#count = 0;
    this.#sum = 0;
    this.#min = Infinity;
    this.#max = 0;
  }

  /** Count, min, max, mean and the usual percentiles, each multiplied by `scale`. */
  snapshot(scale = 1): HistogramSnapshot {
    return {
      count: this.#count,
      min: this.min * scale,
      max: this.#max * scale,
      mean: this.mean * scale,
      p50: this.percentile(50) * scale,
      p90: this.percentile(90) * scale,
      p99: this.percentile(99) * scale,
      p999: this.percentile(99.9) * scale,
    };
  }
}

/** Bucket index of a non-negative integer. */
function indexOf(v: number): number {
  if (v < 2 * SUB) return v;
  const shift = Math.floor(Math.log2(v)) - SUB_BITS; // ≥ 1
  // Math.log2 can round up just below a power of two: correct the shift if so.
  const s = 2 ** shift > v / SUB ? shift - 1 : shift;
  const sub = Math.floor(v / 2 ** s); // in [SUB, 2·SUB)
  return 2 * SUB + (s - 1) * SUB + (sub - SUB);
}

/** The middle of bucket `i`'s value range. */
function middleOf(i: number): number {
  if (i < 2 * SUB) return i;
  const s = Math.floor((i - 2 * SUB) / SUB) + 1;
  const sub = ((i - 2 * SUB) % SUB) + SUB;
  const low = sub * 2 ** s;
  return low + (2 ** s - 1) / 2;
}
