// PURE: the per-request series of one service (requests by outcome, request duration, queue wait)
// as plain numbers: RequestStats is the Session's RequestObserver, bumped on the hot path without
// allocating; HistogramCounts keeps a histogram as per-bucket counts and turns it into samples only
// when metrics.ts is scraped. No prom-client, no I/O, no clock.

import type { RequestObserver, RequestOutcome } from '../sessions/session.js';

export const OUTCOMES = [
  'ok',
  'error',
  'timeout',
  'queue_full',
  'cancelled',
  'closed',
] as const satisfies readonly RequestOutcome[];
const OUTCOME_INDEX: Readonly<Record<RequestOutcome, number>> = {
  ok: 0,
  error: 1,
  timeout: 2,
  queue_full: 3,
  cancelled: 4,
  closed: 5,
};

/** Seconds; request duration covers queue wait plus the server's work. */
const DURATION_BUCKETS = [
  0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
];
const WAIT_BUCKETS = [0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30];

/** One sample as prom-client's registry renders it (`metricName` overrides the metric's name). */
export interface Sample {
  value: number;
  labels: Record<string, string>;
  metricName?: string;
}

/** A histogram kept as plain counts: observe() is a loop and three additions. */
class HistogramCounts {
  readonly bounds: readonly number[];
  /** Per bucket (not cumulative); the last slot is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;

  constructor(bounds: readonly number[]) {
    this.bounds = bounds;
    this.counts = new Float64Array(bounds.length + 1);
  }

  observe(seconds: number): void {
    const bounds = this.bounds;
    let i = 0;
    while (i < bounds.length && seconds > bounds[i]!) i++;
    this.counts[i]! += 1;
    this.sum += seconds;
    this.count += 1;
  }

  samples(name: string, labels: Record<string, string>, out: Sample[]): void {
    let cumulative = 0;
    for (let i = 0; i <= this.bounds.length; i++) {
      cumulative += this.counts[i]!;
      const le = i < this.bounds.length ? String(this.bounds[i]) : '+Inf';
      out.push({ metricName: `${name}_bucket`, labels: { ...labels, le }, value: cumulative });
    }
    out.push({ metricName: `${name}_sum`, labels, value: this.sum });
    out.push({ metricName: `${name}_count`, labels, value: this.count });
  }
}

/** One service's request series; the Session calls it (RequestObserver). */
export class RequestStats implements RequestObserver {
  readonly outcomes = new Float64Array(OUTCOMES.length);
  readonly duration = new HistogramCounts(DURATION_BUCKETS);
  readonly wait = new HistogramCounts(WAIT_BUCKETS);

  dequeued(waitMs: number): void {
    this.wait.observe(waitMs / 1000);
  }

  done(outcome: RequestOutcome, elapsedMs?: number): void {
    this.outcomes[OUTCOME_INDEX[outcome]]! += 1;
    if (elapsedMs !== undefined) this.duration.observe(elapsedMs / 1000);
  }
}
