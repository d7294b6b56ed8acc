// One service's request queue: p-queue with the service's `concurrency`, plus the `queue_limit`
// check before add() (p-queue itself never refuses). Waiting jobs are removed through their
// AbortSignal (never clear()). A rolling average of service time gives queue_full's retry hint.

import PQueue from 'p-queue';
import { McpmuxError } from '../errors.js';

export interface RequestQueueStats {
  waiting: number;
  running: number;
  concurrency: number;
  queueLimit: number;
}

export class RequestQueue {
  readonly service: string;
  readonly queueLimit: number;
  readonly #queue: PQueue;
  /** Exponentially weighted mean of how long a job holds its slot, in ms. */
  #meanServiceMs = 10;

  constructor(service: string, options: { concurrency: number; queueLimit: number }) {
    this.service = service;
    this.queueLimit = options.queueLimit;
    this.#queue = new PQueue({ concurrency: Math.max(1, options.concurrency) });
  }

  get waiting(): number {
    return this.#queue.size;
  }

  get running(): number {
    return this.#queue.pending;
  }

  stats(): RequestQueueStats {
    return {
      waiting: this.#queue.size,
      running: this.#queue.pending,
      concurrency: this.#queue.concurrency,
      queueLimit: this.queueLimit,
    };
  }

  /** A hint for a refused client: about when one waiting slot should be free. */
  retryAfterMs(): number {
    const perSlot = (this.#meanServiceMs * (this.#queue.size + 1)) / this.#queue.concurrency;
    return Math.max(10, Math.ceil(perSlot));
  }

  /** True when a new job would have to wait and the waiting line is already full. */
  isFull(): boolean {
    return this.#queue.pending >= this.#queue.concurrency && this.#queue.size >= this.queueLimit;
  }

  /**
   * Runs `job` once a slot is free. Throws queue_full at once when the waiting line is full.
   * Aborting `signal` while the job waits removes it (the promise then rejects with the reason).
   */
  run(job: () => Promise<void>, signal: AbortSignal): Promise<void> {
    if (this.isFull()) {
      throw new McpmuxError('queue_full', `the ${this.service} queue is full`, {
        retry_after_ms: this.retryAfterMs(),
        queue_limit: this.queueLimit,
      });
    }
    return this.#queue.add(
      async () => {
        const started = performance.now();
        try {
          await job();
        } finally {
          this.#meanServiceMs = this.#meanServiceMs * 0.9 + (performance.now() - started) * 0.1;
        }
      },
      { signal },
    );
  }
}
