// One service's request queue: p-queue with the service's `concurrency`, plus the `queue_limit`
// check before add() (p-queue itself never refuses). p-queue is the only slot count: a job holds
// its slot until the promise it returns settles. Waiting jobs are removed through their
// AbortSignal (never clear()). Fairness between sessions is p-queue's `priority`: a caller passes
// minus what its session already has in flight, so one session cannot take every slot while
// another waits (docs/protocol.md, "Request model").
//
// The uncontended path is p-queue's own: add() starts a job synchronously when a slot is free and
// nobody waits, so the caller writes to the server in the same tick and needs no AbortSignal (it
// cannot wait). Its cost, measured with scripts/bench/queue-bench.ts: about 3.4 µs per request
// more than the side count this replaced (p-queue's promise, task record and events per job).

import PQueue from 'p-queue';
import { McpmuxError } from '../errors.js';

export interface RequestQueueStats {
  waiting: number;
  running: number;
  concurrency: number;
  queueLimit: number;
}

export interface RunOptions {
  /** Removes the job while it waits (only a job that can wait needs one). */
  signal?: AbortSignal | undefined;
  /** Higher runs sooner; callers pass minus their session's requests in flight. */
  priority?: number;
}

export class RequestQueue {
  readonly service: string;
  readonly queueLimit: number;
  readonly #queue: PQueue;
  readonly #concurrency: number;
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
    return this.#queue.pending;
  }

  /** True when a job added now starts at once (synchronously, inside run()). */
  get hasFreeSlot(): boolean {
    return this.#queue.size === 0 && this.#queue.pending < this.#concurrency;
  }

  stats(): RequestQueueStats {
    return {
      waiting: this.#queue.size,
      running: this.#queue.pending,
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
    return this.#queue.pending >= this.#concurrency && this.#queue.size >= this.queueLimit;
  }

  /**
   * Runs `job` once a slot is free (synchronously when one is free now); the slot is held until
   * the job's promise settles. Throws queue_full at once when the waiting line is full. Aborting
   * `signal` while the job waits removes it (the promise then rejects with the reason).
   */
  run(job: () => Promise<void>, options: RunOptions = {}): Promise<void> {
    if (this.isFull()) {
      throw new McpmuxError('queue_full', `the ${this.service} queue is full`, {
        retry_after_ms: this.retryAfterMs(),
        queue_limit: this.queueLimit,
      });
    }
    const timed = async () => {
      const started = performance.now();
      try {
        await job();
      } finally {
        this.#meanServiceMs = this.#meanServiceMs * 0.9 + (performance.now() - started) * 0.1;
      }
    };
    const { signal, priority } = options;
    return this.#queue.add(timed, {
      ...(signal === undefined ? {} : { signal }),
      ...(priority === undefined ? {} : { priority }),
    });
  }
}
