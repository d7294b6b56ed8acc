// Per-session bookkeeping of client requests on their way to the server: keyed by the client's
// own id (type kept: 1 and "1" are different), each with its deadline and its queue slot.

import type { JsonRpcId } from '../jsonrpc/types.js';

export type InflightState = 'queued' | 'sent';

export interface InflightRequest {
  readonly id: JsonRpcId;
  readonly method: string;
  readonly progressToken: string | number | undefined;
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
