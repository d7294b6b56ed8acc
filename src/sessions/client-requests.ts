// One session's client requests on their way to the server and back: each goes through the
// service queue (p-queue starts it in the same tick when a slot is free), keeps the channel's
// order against its notifications, has a deadline that progress extends up to max_request_time,
// can be cancelled, and is failed when the session ends. While the server waits on the client (a
// server→client request is outstanding) the session's requests hold no queue slot and only
// max_request_time ends them (docs/protocol.md, "Request model").
//
// It depends on nothing but the functions in its options (no MCPClient, no socket), so its
// ordering, cancellation and deadlines are unit-tested with fakes and fake timers.

import { McpmuxError, errorResponse } from '../errors.js';
import { toLine } from '../jsonrpc/codec.js';
import type { JsonRpcId, JsonRpcNotification, JsonRpcRequest } from '../jsonrpc/types.js';
import { DeadTokens, Outbox, type InflightRequest } from './inflight.js';
import type { RequestQueue } from './request-queue.js';
import type { RequestObserver } from './request-outcome.js';

export interface RequestDeadlines {
  /** request_timeout: how long a request may go without a sign of life, in ms. */
  requestTimeoutMs: number;
  /** max_request_time: the most a request may take however much progress it reports, in ms. */
  maxRequestTimeMs: number;
}

export interface ClientRequestsOptions {
  queue: RequestQueue;
  deadlines: RequestDeadlines;
  /** Every line for the server (the session's write, which watches the server's stdin). */
  write: (line: string) => void;
  /** Every line for the client (the session's, which buffers while detached). */
  toClient: (line: string) => void;
  observer?: RequestObserver | undefined;
  /** Called each time the last request in flight ends (the relay's shutdown drain waits on it). */
  onIdle?: (() => void) | undefined;
}

export class ClientRequests {
  readonly #inflight = new Map<JsonRpcId, InflightRequest>();
  readonly #tokens = new Map<string | number, InflightRequest>();
  readonly #dead = new DeadTokens();
  readonly #outbox: Outbox;
  readonly #o: ClientRequestsOptions;
  /** Server→client requests the client has not answered yet. */
  #serverWaiting = 0;

  constructor(options: ClientRequestsOptions) {
    this.#o = options;
    this.#outbox = new Outbox(options.write);
  }

  get size(): number {
    return this.#inflight.size;
  }

  /**
   * A client request (`text`: the frame it came in, forwarded as is when it is one line). False
   * when it was answered with an error at once (its id in use, the queue full).
   */
  send(message: JsonRpcRequest, text: string): boolean {
    const { id, method } = message;
    if (this.#inflight.has(id)) {
      const err = new McpmuxError('invalid_request', `id ${JSON.stringify(id)} is already in use`);
      this.#o.toClient(errorResponse(id, err));
      return false;
    }
    const meta = (message.params as { _meta?: { progressToken?: unknown } } | undefined)?._meta;
    const token = meta?.progressToken;
    const now = Date.now();
    const entry: InflightRequest = {
      id,
      method,
      progressToken: typeof token === 'string' || typeof token === 'number' ? token : undefined,
      receivedAt: performance.now(),
      startedAt: now,
      activeAt: now,
      state: 'queued',
      abort: undefined,
      timer: undefined,
      release: () => undefined,
    };
    // Fairness: a session with more in flight waits behind one with less (p-queue priority).
    const priority = -this.#inflight.size;
    this.#inflight.set(id, entry);
    if (entry.progressToken !== undefined) {
      this.#tokens.set(entry.progressToken, entry);
      this.#dead.delete(entry.progressToken);
    }
    this.#arm(entry);
    const { observer, queue } = this.#o;
    // A slot free and nothing of this channel waiting: p-queue runs the job inside run(), so the
    // line goes out now and the job needs no AbortSignal (it can never wait).
    const canWait = !queue.hasFreeSlot || this.#outbox.length > 0;
    const place = this.#outbox.hold();
    const abort = canWait ? new AbortController() : undefined;
    entry.abort = abort;
    let job: Promise<void>;
    try {
      job = queue.run(
        () => {
          if (abort?.signal.aborted === true) return Promise.resolve();
          entry.state = 'sent';
          observer?.dequeued(performance.now() - entry.receivedAt);
          place.ready(toLine(text, message));
          // While the server waits on the client this request holds no slot (see above).
          if (this.#serverWaiting > 0) return Promise.resolve();
          return new Promise<void>((resolve) => (entry.release = resolve));
        },
        { signal: abort?.signal, priority },
      );
    } catch (err) {
      this.#forget(entry);
      place.drop();
      observer?.done('queue_full');
      this.#o.toClient(errorResponse(id, err));
      return false;
    }
    job.catch(() => place.drop()); // removed from the queue by abort
    return true;
  }

  /** A client notification: after the channel's queued requests, cancellations at once. */
  notify(message: JsonRpcNotification, text: string): void {
    if (message.method !== 'notifications/cancelled') {
      this.#outbox.push(toLine(text, message));
      return;
    }
    const requestId = (message.params as { requestId?: JsonRpcId } | undefined)?.requestId;
    const entry = requestId === undefined ? undefined : this.#inflight.get(requestId);
    if (entry !== undefined) {
      const wasSent = entry.state === 'sent';
      this.#finish(entry);
      this.#o.observer?.done('cancelled');
      if (!wasSent) return; // removed from the queue: nothing reaches the server
    }
    this.#o.write(toLine(text, message)); // bypasses the queue
  }

  /** The server answered `id`: true when a request waited for it (a late answer is dropped). */
  settle(id: JsonRpcId, isError: boolean): boolean {
    const entry = this.#inflight.get(id);
    if (entry === undefined) return false; // cancelled or timed out
    this.#forget(entry);
    entry.release();
    this.#o.observer?.done(isError ? 'error' : 'ok', performance.now() - entry.receivedAt);
    if (this.#inflight.size === 0) this.#o.onIdle?.();
    return true;
  }

  /**
   * Progress from the server: true when it goes to the client. Progress of a live request is a
   * sign of life (its request_timeout starts again); of a cancelled or timed-out one, dropped.
   */
  progress(token: unknown): boolean {
    if (typeof token !== 'string' && typeof token !== 'number') return true;
    const entry = this.#tokens.get(token);
    if (entry !== undefined) {
      entry.activeAt = Date.now();
      return true;
    }
    return !this.#dead.has(token);
  }

  /**
   * The server sent the client a request (`waiting`: true) or the client answered one (false).
   * While any is outstanding, the session's requests in flight free their queue slots (a request
   * the client makes from its handler cannot deadlock behind them) and only max_request_time
   * ends them; when the last is answered, each gets a fresh request_timeout.
   */
  serverWaiting(waiting: boolean): void {
    this.#serverWaiting = Math.max(0, this.#serverWaiting + (waiting ? 1 : -1));
    const now = Date.now();
    for (const entry of this.#inflight.values()) {
      if (entry.state !== 'sent') continue;
      if (waiting) {
        entry.release();
        entry.release = () => undefined;
      } else if (this.#serverWaiting === 0) {
        entry.activeAt = now;
        this.#arm(entry);
      }
    }
  }

  /**
   * A new client took over the session (a repeated initialize on a resume): the old client's
   * requests are cancelled upstream and their late output dropped; nothing is sent to the client.
   */
  abandonAll(): void {
    for (const entry of [...this.#inflight.values()]) {
      const wasSent = entry.state === 'sent';
      this.#finish(entry);
      this.#o.observer?.done('cancelled');
      if (wasSent) this.#cancelUpstream(entry.id, 'the client was replaced');
    }
    this.#serverWaiting = 0;
  }

  /** The session ends: every request still in flight is answered with `cause`, via `send`. */
  failAll(cause: McpmuxError, send: ((line: string) => void) | undefined): void {
    for (const entry of [...this.#inflight.values()]) {
      this.#finish(entry);
      this.#o.observer?.done('closed');
      send?.(errorResponse(entry.id, cause));
    }
  }

  /** When the request's deadline passes now (progress and waiting on the client move it). */
  #deadline(entry: InflightRequest): number {
    const { requestTimeoutMs, maxRequestTimeMs } = this.#o.deadlines;
    const cap = entry.startedAt + Math.max(maxRequestTimeMs, requestTimeoutMs);
    if (this.#serverWaiting > 0 && entry.state === 'sent') return cap;
    return Math.min(entry.activeAt + requestTimeoutMs, cap);
  }

  #arm(entry: InflightRequest): void {
    clearTimeout(entry.timer);
    const delay = Math.max(0, this.#deadline(entry) - Date.now());
    entry.timer = setTimeout(() => this.#onTimer(entry), delay);
  }

  /** The timer fired: the deadline may have moved since it was set (progress); if so, re-arm. */
  #onTimer(entry: InflightRequest): void {
    if (this.#inflight.get(entry.id) !== entry) return;
    if (this.#deadline(entry) > Date.now()) {
      this.#arm(entry);
      return;
    }
    this.#timeout(entry);
  }

  #timeout(entry: InflightRequest): void {
    const wasSent = entry.state === 'sent';
    this.#finish(entry);
    this.#o.observer?.done('timeout', performance.now() - entry.receivedAt);
    const { requestTimeoutMs, maxRequestTimeMs } = this.#o.deadlines;
    const elapsedMs = Date.now() - entry.startedAt;
    const capped = elapsedMs >= maxRequestTimeMs;
    const message = capped
      ? `${entry.method} ran past max_request_time (${maxRequestTimeMs} ms)`
      : `${entry.method} timed out after ${requestTimeoutMs} ms`;
    this.#o.toClient(
      errorResponse(
        entry.id,
        new McpmuxError('request_timeout', message, {
          method: entry.method,
          timeout_ms: capped ? maxRequestTimeMs : requestTimeoutMs,
        }),
      ),
    );
    if (wasSent) this.#cancelUpstream(entry.id, 'request_timeout');
  }

  #cancelUpstream(requestId: JsonRpcId, reason: string): void {
    const params = { requestId, reason };
    this.#o.write(JSON.stringify({ jsonrpc: '2.0', method: 'notifications/cancelled', params }));
  }

  /** Drops a request from the maps and clears its timer (nothing else). */
  #forget(entry: InflightRequest): void {
    this.#inflight.delete(entry.id);
    clearTimeout(entry.timer);
    const token = entry.progressToken;
    if (token !== undefined && this.#tokens.get(token) === entry) this.#tokens.delete(token);
  }

  /** Forgets a request that ended unanswered: frees or removes its slot, drops late output. */
  #finish(entry: InflightRequest): void {
    this.#forget(entry);
    if (entry.state === 'queued') entry.abort?.abort();
    else entry.release();
    if (entry.progressToken !== undefined) this.#dead.add(entry.progressToken);
    if (this.#inflight.size === 0) this.#o.onIdle?.();
  }
}
