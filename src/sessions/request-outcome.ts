// How a request ended, and the per-service accounting every endpoint's requests report to.

/** How a client request ended, as the metrics count it. */
export type RequestOutcome = 'ok' | 'error' | 'timeout' | 'queue_full' | 'cancelled' | 'closed';

/** Per-service request accounting (the relay's metrics). Called on the hot path: must be cheap. */
export interface RequestObserver {
  /** A request left the queue for the server after waiting `waitMs`. */
  dequeued(waitMs: number): void;
  /** A request ended; `elapsedMs` since it reached the relay, when it got an answer or timed out. */
  done(outcome: RequestOutcome, elapsedMs?: number): void;
}
