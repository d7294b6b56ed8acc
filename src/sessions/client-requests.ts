// One session's requests to the server — a client's (/mcp, /ws) and the relay's own (relay(): the
// REST API's calls) alike — from arrival to their one end: the service queue (fair between
// sessions; p-queue starts a job in the same tick when a slot is free), the channel's order, one
// deadline that progress extends up to max_request_time, cancellation upstream, the session's end,
// and the metrics. A client's request ends in a line for the client, a relay request in its
// promise. While the server waits on the client the session's requests hold no queue slot and only
// max_request_time ends them (docs/protocol.md, "Request model"). It depends on nothing but its
// options (no MCPClient, no socket): unit-tested with fakes and fake timers.

import { McpmuxError, UpstreamError, errorResponse } from '../errors.js';
import { toLine } from '../jsonrpc/codec.js';
import type {
  JsonRpcId,
  JsonRpcNotification,
  JsonRpcRequest,
  JsonRpcResponse,
} from '../jsonrpc/types.js';
import {
  DeadTokens,
  Outbox,
  deadlineOf,
  relayMessage,
  timeoutError,
  type InflightRequest,
  type RelayWaiter,
} from './inflight.js';
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
    if (this.#inflight.has(message.id)) {
      const id = JSON.stringify(message.id);
      const err = new McpmuxError('invalid_request', `id ${id} is already in use`);
      this.#o.toClient(errorResponse(message.id, err));
      return false;
    }
    return this.#start(message, text, this.#o.deadlines.requestTimeoutMs, undefined);
  }

  /**
   * A request the relay makes itself (a REST call), with `id` from the relay's own namespace and
   * `timeoutMs` as its request_timeout: the same queue, deadline, progress, cancellation and
   * metrics as a client's. Resolves with the server's result; rejects with an UpstreamError (the
   * server's error) or the relay's (queue_full, request_timeout, the session's end).
   */
  relay(
    id: string,
    method: string,
    params: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<unknown> {
    return new Promise<unknown>((resolve, reject) => {
      if (this.#inflight.has(id)) throw new McpmuxError('internal_error', `relay id ${id} in use`);
      const { message, line } = relayMessage(id, method, params);
      this.#start(message, line, timeoutMs, { resolve, reject });
    });
  }

  #start(
    message: JsonRpcRequest,
    text: string,
    timeoutMs: number,
    waiter: RelayWaiter | undefined,
  ): boolean {
    const { id, method } = message;
    const meta = (message.params as { _meta?: { progressToken?: unknown } } | undefined)?._meta;
    const token = meta?.progressToken;
    const now = Date.now();
    const entry: InflightRequest = {
      id,
      method,
      progressToken: typeof token === 'string' || typeof token === 'number' ? token : undefined,
      timeoutMs,
      waiter,
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
      this.#fail(entry, err, this.#o.toClient);
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
    if (entry?.waiter !== undefined) return; // the relay's own request: not the client's to cancel
    if (entry !== undefined) {
      const wasSent = entry.state === 'sent';
      this.#finish(entry);
      this.#o.observer?.done('cancelled');
      if (!wasSent) return; // removed from the queue: nothing reaches the server
    }
    this.#o.write(toLine(text, message)); // bypasses the queue
  }

  /**
   * The server answered `id`: true when the answer goes to the client. A late answer (cancelled,
   * timed out) is dropped; the answer to a relay request settles its promise (with `response`).
   */
  settle(id: JsonRpcId, isError: boolean, response?: JsonRpcResponse): boolean {
    const entry = this.#inflight.get(id);
    if (entry === undefined) return false; // cancelled or timed out
    this.#forget(entry);
    entry.release();
    this.#o.observer?.done(isError ? 'error' : 'ok', performance.now() - entry.receivedAt);
    if (this.#inflight.size === 0) this.#o.onIdle?.();
    const { waiter } = entry;
    if (waiter === undefined) return true;
    if (response !== undefined && 'error' in response) {
      waiter.reject(new UpstreamError(response.error));
    } else waiter.resolve(response?.result);
    return false;
  }

  /**
   * Progress from the server: true when it goes to the client. Progress of a live request is a
   * sign of life (its request_timeout starts again); of a cancelled or timed-out one, dropped; of
   * a relay request, kept from the client (it is not the client's).
   */
  progress(token: unknown): boolean {
    if (typeof token !== 'string' && typeof token !== 'number') return true;
    const entry = this.#tokens.get(token);
    if (entry !== undefined) {
      entry.activeAt = Date.now();
      return entry.waiter === undefined;
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
   * The relay's own requests carry on.
   */
  abandonAll(): void {
    for (const entry of [...this.#inflight.values()]) {
      if (entry.waiter !== undefined) continue;
      const wasSent = entry.state === 'sent';
      this.#finish(entry);
      this.#o.observer?.done('cancelled');
      if (wasSent) this.#cancelUpstream(entry.id, 'the client was replaced');
    }
    this.#serverWaiting = 0;
  }

  /**
   * The session ends: every request still in flight is answered with `cause`, a client's via
   * `send`, a relay request's by its promise.
   */
  failAll(cause: McpmuxError, send: ((line: string) => void) | undefined): void {
    for (const entry of [...this.#inflight.values()]) {
      this.#finish(entry);
      this.#o.observer?.done('closed');
      this.#fail(entry, cause, send);
    }
  }

  #deadline(entry: InflightRequest): number {
    return deadlineOf(entry, this.#o.deadlines.maxRequestTimeMs, this.#serverWaiting > 0);
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
    const err = timeoutError(entry, this.#o.deadlines.maxRequestTimeMs);
    this.#fail(entry, err, this.#o.toClient);
    if (wasSent) this.#cancelUpstream(entry.id, 'request_timeout');
  }

  /** A request ended with a relay error: a line for the client (via `send`) or its promise. */
  #fail(entry: InflightRequest, err: unknown, send: ((line: string) => void) | undefined): void {
    if (entry.waiter !== undefined) entry.waiter.reject(err as Error);
    else send?.(errorResponse(entry.id, err));
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
