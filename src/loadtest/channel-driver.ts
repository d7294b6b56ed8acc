// One channel of a load test: initialize + notifications/initialized, then `inFlight` requests
// kept outstanding (pipelined), each timed from send to response. The Tally all channels share
// decides whether another request may go out and records every outcome.

import { ConnectError, type ChannelSink } from './connect.js';
import { Histogram } from './histogram.js';

const INITIALIZE_PARAMS = {
  protocolVersion: '2025-11-25',
  capabilities: {},
  clientInfo: { name: 'mcpmux-loadtest', version: '1' },
};

/** Outcomes of every channel, and the run's limits (times from performance.now(), in ms). */
export class Tally {
  /** Latency of successful requests, in nanoseconds. */
  readonly histogram = new Histogram();
  readonly errors = new Map<string, number>();
  ok = 0;
  errorCount = 0;
  /** Requests sent since measuring began (counted against the budget). */
  issued = 0;
  warmupRequests = 0;
  warmupErrors = 0;
  measureStartAt = Infinity;
  endAt = Infinity;
  lastDoneAt = 0;
  stopped = false;
  readonly budget: number;

  constructor(budget: number) {
    this.budget = budget;
  }

  mayIssue(now: number): boolean {
    return (
      !this.stopped && now < this.endAt && (now < this.measureStartAt || this.issued < this.budget)
    );
  }

  /** A request sent at `sentAt` ended at `now`: ok (reason null) or failed with `reason`. */
  done(sentAt: number, now: number, reason: string | null): void {
    if (sentAt < this.measureStartAt) {
      this.warmupRequests++;
      if (reason !== null) this.warmupErrors++;
      return;
    }
    this.lastDoneAt = now;
    if (reason === null) {
      this.ok++;
      this.histogram.record((now - sentAt) * 1e6);
    } else {
      this.fault(reason);
    }
  }

  /** Counts an error under `reason`. */
  fault(reason: string): void {
    this.errorCount++;
    this.errors.set(reason, (this.errors.get(reason) ?? 0) + 1);
  }
}

/** Why a response is a failure, or null: the relay's data.reason, upstream:<code>, tool_error. */
export function failureOf(msg: { error?: unknown; result?: unknown }): string | null {
  const error = msg.error as { code?: unknown; data?: { reason?: unknown } } | undefined | null;
  if (error !== undefined && error !== null) {
    const reason = error.data?.reason;
    return typeof reason === 'string' ? reason : `upstream:${String(error.code)}`;
  }
  return (msg.result as { isError?: unknown } | undefined)?.isError === true ? 'tool_error' : null;
}

export class ChannelDriver implements ChannelSink {
  readonly #tally: Tally;
  readonly #inFlight: number;
  readonly #head: string;
  readonly #tail: string;
  /** id → send time */
  readonly #pending = new Map<number, number>();
  #send: (text: string, id?: number) => void = () => undefined;
  #state: 'idle' | 'initializing' | 'running' | 'closed' = 'idle';
  #nextId = 1;
  #init: { resolve: () => void; reject: (err: Error) => void } | undefined;

  constructor(tally: Tally, inFlight: number, method: string, params: unknown) {
    this.#tally = tally;
    this.#inFlight = inFlight;
    this.#head = '{"jsonrpc":"2.0","id":';
    this.#tail =
      `,"method":${JSON.stringify(method)}` +
      (params === undefined ? '' : `,"params":${JSON.stringify(params)}`) +
      '}';
  }

  get outstanding(): number {
    return this.#pending.size;
  }

  attach(send: (text: string, id?: number) => void): void {
    this.#send = send;
  }

  /** initialize (id 0), its answer, then notifications/initialized. Rejects with a ConnectError. */
  initialize(signal: AbortSignal): Promise<void> {
    if (this.#state === 'closed')
      return Promise.reject(new ConnectError('closed', 'channel closed'));
    this.#state = 'initializing';
    return new Promise<void>((resolve, reject) => {
      const onAbort = () => reject(new ConnectError('aborted', 'initialize was aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      this.#init = {
        resolve: () => {
          signal.removeEventListener('abort', onAbort);
          resolve();
        },
        reject: (err) => {
          signal.removeEventListener('abort', onAbort);
          reject(err);
        },
      };
      this.#send(
        JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: INITIALIZE_PARAMS }),
        0,
      );
    }).then(() => {
      this.#send('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    });
  }

  /** Starts the load: fills the window. */
  start(now: number): void {
    if (this.#state !== 'initializing') return;
    this.#state = 'running';
    this.#fill(now);
  }

  /** True when nothing is outstanding and nothing more will be sent. */
  isIdle(now: number): boolean {
    return this.#pending.size === 0 && (this.#state !== 'running' || !this.#tally.mayIssue(now));
  }

  /** Fails requests older than `timeoutMs`, then refills the window. */
  sweep(now: number, timeoutMs: number): void {
    if (this.#pending.size === 0) return;
    for (const [id, sentAt] of this.#pending) {
      if (now - sentAt < timeoutMs) continue;
      this.#pending.delete(id);
      this.#tally.done(sentAt, now, 'timeout');
    }
    if (this.#state === 'running') this.#fill(now);
  }

  // ChannelSink
  message(msg: unknown): void {
    if (typeof msg !== 'object' || msg === null) return;
    const m = msg as { id?: unknown; method?: unknown; error?: unknown; result?: unknown };
    if (m.method !== undefined) {
      // A server→client request: refuse it so the server does not wait; notifications: ignore.
      if (m.id !== undefined) {
        const error = { code: -32601, message: 'the load test answers no requests' };
        this.#send(JSON.stringify({ jsonrpc: '2.0', id: m.id, error }));
      }
      return;
    }
    if (typeof m.id !== 'number') return;
    if (m.id === 0 && this.#init !== undefined) return this.#initialized(m);
    const sentAt = this.#pending.get(m.id);
    if (sentAt === undefined) return; // timed out already
    this.#pending.delete(m.id);
    const now = performance.now();
    this.#tally.done(sentAt, now, failureOf(m));
    if (this.#state === 'running') this.#fill(now);
  }

  fault(reason: string): void {
    this.#tally.fault(reason);
  }

  closed(reason: string): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#init?.reject(new ConnectError(reason, `channel closed before initialize: ${reason}`));
    this.#init = undefined;
    const now = performance.now();
    for (const sentAt of this.#pending.values()) this.#tally.done(sentAt, now, reason);
    this.#pending.clear();
  }

  #initialized(m: { error?: unknown; result?: unknown }): void {
    const init = this.#init!;
    this.#init = undefined;
    const failure = failureOf(m);
    if (failure === null) init.resolve();
    else init.reject(new ConnectError(failure, `initialize failed: ${JSON.stringify(m.error)}`));
  }

  #fill(now: number): void {
    const tally = this.#tally;
    while (this.#pending.size < this.#inFlight && tally.mayIssue(now)) {
      const id = this.#nextId++;
      if (now >= tally.measureStartAt) tally.issued++;
      this.#pending.set(id, now);
      this.#send(this.#head + String(id) + this.#tail, id);
      now = performance.now();
    }
  }
}
