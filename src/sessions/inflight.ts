// Per-session bookkeeping of requests on their way to the server: keyed by their id (a client's
// own, type kept: 1 and "1" are different; or one of the relay's, for the REST API's calls), each
// with its deadline, its queue slot and where its end goes.

import { McpmuxError } from '../errors.js';
import type { JsonRpcId, JsonRpcRequest } from '../jsonrpc/types.js';

export type InflightState = 'queued' | 'sent';

/** The promise a request the relay makes itself (a REST call) waits on, instead of a client. */
export interface RelayWaiter {
  resolve: (result: unknown) => void;
  reject: (err: Error) => void;
}

export interface InflightRequest {
  readonly id: JsonRpcId;
  readonly method: string;
  readonly progressToken: string | number | undefined;
  /** Its request_timeout in ms (the service's; a REST call's own). */
  readonly timeoutMs: number;
  /** Set for a request the relay made itself: its end settles this, nothing goes to the client. */
  readonly waiter: RelayWaiter | undefined;
  /** performance.now() at arrival: queue wait and duration metrics. */
  readonly receivedAt: number;
  /** Date.now() at arrival: max_request_time counts from here. */
  readonly startedAt: number;
  /** Date.now() of the last sign of life (arrival, progress, the client answering the server). */
  activeAt: number;
  state: InflightState;
  /** Aborting removes a waiting request from the service queue (only requests that wait have one). */
  abort: AbortController | undefined;
  timer: NodeJS.Timeout | undefined;
  /** Frees the request's queue slot (resolves the queue job). */
  release: () => void;
}

/**
 * A bounded memory of progress tokens whose requests were cancelled or timed out, so their late
 * progress is dropped. A token is forgotten as soon as a new request uses it again (MCP lets a
 * client reuse a token once its request ended; SDK clients do after a resume).
 */
export class DeadTokens {
  readonly #tokens = new Set<string | number>();
  readonly #max: number;

  constructor(max = 1024) {
    this.#max = max;
  }

  add(token: string | number): void {
    this.#tokens.add(token);
    if (this.#tokens.size > this.#max) {
      const oldest = this.#tokens.values().next().value;
      if (oldest !== undefined) this.#tokens.delete(oldest);
    }
  }

  delete(token: string | number): void {
    if (this.#tokens.size > 0) this.#tokens.delete(token);
  }

  has(token: unknown): boolean {
    return this.#tokens.size > 0 && this.#tokens.has(token as string | number);
  }
}

/** Lines held so one channel's notifications never overtake its own queued requests. */
export class Outbox {
  readonly #items: { line: string; ready: boolean; dropped: boolean }[] = [];
  readonly #write: (line: string) => void;

  constructor(write: (line: string) => void) {
    this.#write = write;
  }

  get length(): number {
    return this.#items.length;
  }

  /** A request entering the queue: it holds its place until ready() or drop(). */
  hold(): { ready: (line: string) => void; drop: () => void } {
    const item = { line: '', ready: false, dropped: false };
    this.#items.push(item);
    return {
      ready: (line) => {
        item.line = line;
        item.ready = true;
        this.#flush();
      },
      drop: () => {
        item.dropped = true;
        this.#flush();
      },
    };
  }

  /** A notification: written now unless a request sent before it still waits in the queue. */
  push(line: string): void {
    if (this.#items.length === 0) this.#write(line);
    else this.#items.push({ line, ready: true, dropped: false });
  }

  #flush(): void {
    while (this.#items.length > 0) {
      const head = this.#items[0]!;
      if (!head.ready && !head.dropped) return;
      this.#items.shift();
      if (!head.dropped) this.#write(head.line);
    }
  }
}

/**
 * The request the relay sends for a REST call: its own id, which is also its progress token (so
 * the server's progress extends its deadline). Throws invalid_request when `params` cannot be
 * serialised (too deep, a cycle, a BigInt): that call alone fails, nothing is left in flight.
 */
export function relayMessage(
  id: string,
  method: string,
  params: Record<string, unknown> | undefined,
): { message: JsonRpcRequest; line: string } {
  const meta = (params?._meta ?? {}) as Record<string, unknown>;
  const message: JsonRpcRequest = {
    jsonrpc: '2.0',
    id,
    method,
    params: { ...params, _meta: { ...meta, progressToken: id } },
  };
  try {
    return { message, line: JSON.stringify(message) };
  } catch (err) {
    const detail = `cannot serialise ${method}: ${(err as Error).message}`;
    throw new McpmuxError('invalid_request', detail, {}, { cause: err });
  }
}

/**
 * When `entry`'s deadline passes: request_timeout after its last sign of life, capped at
 * max_request_time from its arrival; only the cap while the server waits on the client.
 */
export function deadlineOf(
  entry: InflightRequest,
  maxRequestTimeMs: number,
  serverWaiting: boolean,
): number {
  const { timeoutMs } = entry;
  const cap = entry.startedAt + Math.max(maxRequestTimeMs, timeoutMs);
  if (serverWaiting && entry.state === 'sent') return cap;
  return Math.min(entry.activeAt + timeoutMs, cap);
}

/** The request_timeout error of `entry` whose deadline passed now. */
export function timeoutError(entry: InflightRequest, maxRequestTimeMs: number): McpmuxError {
  const { method, timeoutMs } = entry;
  const capped = maxRequestTimeMs > timeoutMs && Date.now() - entry.startedAt >= maxRequestTimeMs;
  const message = capped
    ? `${method} ran past max_request_time (${maxRequestTimeMs} ms)`
    : `${method} timed out after ${timeoutMs} ms`;
  const timeout_ms = capped ? maxRequestTimeMs : timeoutMs;
  return new McpmuxError('request_timeout', message, { method, timeout_ms });
}
