// One service's request queue: p-queue with the service's `concurrency`, plus the `queue_limit`
// check before add() (p-queue itself never refuses). Waiting jobs are removed through their
// AbortSignal (never clear()). A request that finds a free slot and nobody waiting starts at once
// (tryRunNow) without a p-queue job: the profile showed the queue machinery costing a quarter of
// the relay's time at 32 in flight. A rolling average of service time gives queue_full's retry hint.

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
  readonly #concurrency: number;
  /** Jobs started by tryRunNow(), outside p-queue; p-queue gets the slots they leave. */
  #direct = 0;
  /** Exponentially weighted mean of how long a job holds its slot, in ms. */
  #meanServiceMs = 10;

  constructor(service: string, options: { concurrency: number; queueLimit: number }) {
    this.service = service;
    this.queueLimit = options.queueLimit;
    this.#concurrency = Math.max(1, options.concurrency);
    this.#queue = new PQueue({ concurrency: this.#concurrency });
  }

  get waiting(): number {
    return this.#queue.size;
  }

  get running(): number {
    return this.#queue.pending + this.#direct;
  }

  stats(): RequestQueueStats {
    return {
      waiting: this.#queue.size,
      running: this.running,
      concurrency: this.#concurrency,
      queueLimit: this.queueLimit,
    };
  }

  /** A hint for a refused client: about when one waiting slot should be free. */
  retryAfterMs(): number {
    const perSlot = (this.#meanServiceMs * (this.#queue.size + 1)) / this.#concurrency;
    return Math.max(10, Math.ceil(perSlot));
  }

  /** True when a new job would have to wait and the waiting line is already full. */
  isFull(): boolean {
    return this.running >= this.#concurrency && this.#queue.size >= this.queueLimit;
  }

  /**
   * The uncontended path: when a slot is free and nobody waits, starts `job` now, without a
   * p-queue job, promise or AbortSignal, and returns true. `job` is given the function that frees
   * its slot. Otherwise returns false and the caller uses run().
   */
  tryRunNow(job: (done: () => void) => void): boolean {
    if (this.#queue.size > 0 || this.running >= this.#concurrency) return false;
    this.#direct++;
    this.#shareSlots();
    let freed = false;
    job(() => {
      if (freed) return;
      freed = true;
      this.#direct--;
      this.#shareSlots();
    });
    return true;
  }

  /** p-queue may run what the direct jobs leave: never more than `concurrency` in all. */
  #shareSlots(): void {
    const left = this.#concurrency - this.#direct;
    if (left <= 0) {
      this.#queue.pause();
      return;
    }
    if (this.#queue.concurrency !== left) this.#queue.concurrency = left;
    if (this.#queue.isPaused) this.#queue.start();
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
