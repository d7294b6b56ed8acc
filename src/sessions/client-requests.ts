// One session's client requests on their way to the server and back: each goes through the
// service queue (straight to the server when a slot is free and nothing of the channel waits),
// keeps the channel's order against its notifications, has a deadline, can be cancelled, and is
// failed when the session ends. The session owns one of these and feeds it the client's requests
// and the server's responses.

import { McpmuxError, errorResponse } from '../errors.js';
import { toLine } from '../jsonrpc/codec.js';
import type { JsonRpcId, JsonRpcNotification, JsonRpcRequest } from '../jsonrpc/types.js';
import type { MCPClient } from '../mcp/mcp-client.js';
import { DeadTokens, Outbox, type InflightRequest } from './inflight.js';
import type { RequestQueue } from './request-queue.js';
import type { RequestObserver } from './session.js';

export interface ClientRequestsOptions {
  queue: RequestQueue;
  /** The server: its request timeout, and where a timed-out request's cancellation goes. */
  client: MCPClient;
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
  readonly #dead = new DeadTokens();
  readonly #outbox: Outbox;
  readonly #o: ClientRequestsOptions;

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
    const entry: InflightRequest = {
      id,
      method,
      progressToken: typeof token === 'string' || typeof token === 'number' ? token : undefined,
      receivedAt: performance.now(), // monotonic ms: queue wait and duration metrics
      state: 'queued',
      abort: undefined,
      timer: undefined,
      release: () => undefined,
    };
    this.#inflight.set(id, entry);
    entry.timer = setTimeout(() => this.#timeout(entry), this.#o.client.service.requestTimeoutMs);
    const { observer, queue, write } = this.#o;
    // Uncontended: nothing of this channel waits, a slot is free — straight to the server.
    if (this.#outbox.length === 0) {
      const started = queue.tryRunNow((done) => {
        entry.state = 'sent';
        entry.release = done;
        observer?.dequeued(0);
        write(toLine(text, message));
      });
      if (started) return true;
    }
    const place = this.#outbox.hold();
    const abort = new AbortController();
    entry.abort = abort;
    let job: Promise<void>;
    try {
      job = queue.run(() => {
        if (abort.signal.aborted) return Promise.resolve();
        entry.state = 'sent';
        observer?.dequeued(performance.now() - entry.receivedAt);
        place.ready(toLine(text, message));
        return new Promise<void>((resolve) => (entry.release = resolve));
      }, abort.signal);
    } catch (err) {
      this.#inflight.delete(id);
      clearTimeout(entry.timer);
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
    this.#inflight.delete(id);
    clearTimeout(entry.timer);
    entry.release();
    this.#o.observer?.done(isError ? 'error' : 'ok', performance.now() - entry.receivedAt);
    if (this.#inflight.size === 0) this.#o.onIdle?.();
    return true;
  }

  /** True for progress of a request that was cancelled or timed out (the client forgot it). */
  isDeadProgress(token: unknown): boolean {
    return this.#dead.has(token);
  }

  /** The session ends: every request still in flight is answered with `cause`, via `send`. */
  failAll(cause: McpmuxError, send: ((line: string) => void) | undefined): void {
    for (const entry of this.#inflight.values()) {
      this.#finish(entry);
      this.#o.observer?.done('closed');
      send?.(errorResponse(entry.id, cause));
    }
  }

  #timeout(entry: InflightRequest): void {
    const wasSent = entry.state === 'sent';
    this.#finish(entry);
    this.#o.observer?.done('timeout', performance.now() - entry.receivedAt);
    const timeoutMs = this.#o.client.service.requestTimeoutMs;
    this.#o.toClient(
      errorResponse(
        entry.id,
        new McpmuxError('request_timeout', `${entry.method} timed out after ${timeoutMs} ms`, {
          method: entry.method,
          timeout_ms: timeoutMs,
        }),
      ),
    );
    if (wasSent) {
      this.#o.client.notify('notifications/cancelled', {
        requestId: entry.id,
        reason: 'request_timeout',
      });
    }
  }

  /** Forgets a request: clears its timer, frees or removes its queue slot, drops late output. */
  #finish(entry: InflightRequest): void {
    this.#inflight.delete(entry.id);
    clearTimeout(entry.timer);
    if (entry.state === 'queued') entry.abort?.abort();
    else entry.release();
    if (entry.progressToken !== undefined) this.#dead.add(entry.progressToken);
    if (this.#inflight.size === 0) this.#o.onIdle?.();
  }
}
