// Which HTTP stream a server message of a Streamable HTTP session goes to (docs/protocol.md,
// "Streamable HTTP", routing). Stream 0 is the standalone GET stream; every POST carrying requests
// opens a stream of its own (1, 2, …) that ends once each of its requests is answered.
//   response to request X             → X's stream (the stream ends after its last response)
//   notifications/progress with token → the stream of the request whose progressToken it is
//   notifications/message, and server→client requests (sampling, roots, elicitation, ping):
//                                        a stdio server says not which request they belong to, so
//                                        when exactly one request is in flight, its stream; else
//                                        the GET stream if one is open; else the oldest request's
//   everything else (list_changed, resources/updated, cancelled, …) → the GET stream
// A request the client cancels gets no response (MCP): its stream ends at the cancel.
// A request answered as JSON (its client did not accept SSE) has a stream that takes only its
// response: what would go to it goes to the GET stream instead. PURE: no I/O.

import type { JsonRpcId } from '../jsonrpc/types.js';

export const STANDALONE = 0;

interface Pending {
  stream: number;
  token: string | number | undefined;
}

interface StreamState {
  /** Requests of the stream not answered yet. */
  open: number;
  /** True when the stream is SSE (false: a JSON answer, which carries responses only). */
  sse: boolean;
}

/** Where a message goes, and whether its stream is complete once it is written. */
export interface Route {
  stream: number;
  /** The message was the last response the stream waited for: end the stream after it. */
  ends: boolean;
}

/** What the router needs to know of a server message. */
export type ServerMessage =
  | { kind: 'response'; id: JsonRpcId | undefined }
  | { kind: 'notification'; method: string; progressToken?: unknown }
  | { kind: 'request'; method: string };

export class StreamRouter {
  /** Client requests in flight by id, in the order they came (Map keeps insertion order). */
  readonly #pending = new Map<JsonRpcId, Pending>();
  readonly #streams = new Map<number, StreamState>();
  #nextStream = 1;

  /** Client requests in flight. */
  get inflight(): number {
    return this.#pending.size;
  }

  /** True while `id` is a request in flight (a second request with it is refused). */
  has(id: JsonRpcId): boolean {
    return this.#pending.has(id);
  }

  /** True while `stream` waits for responses. */
  isOpen(stream: number): boolean {
    return this.#streams.has(stream);
  }

  /** Opens a stream for one POST's requests; returns its number. */
  openStream(sse: boolean): number {
    const stream = this.#nextStream++;
    this.#streams.set(stream, { open: 0, sse });
    return stream;
  }

  /** A request of `stream` is on its way to the server. */
  addRequest(stream: number, id: JsonRpcId, progressToken: unknown): void {
    const state = this.#streams.get(stream);
    if (state === undefined) throw new Error(`stream ${stream} is not open`);
    const token =
      typeof progressToken === 'string' || typeof progressToken === 'number'
        ? progressToken
        : undefined;
    this.#pending.set(id, { stream, token });
    state.open++;
  }

  /**
   * Decides the stream of one server message. `standaloneOpen`: a GET stream is connected now.
   * A response settles its request (a response to no request in flight goes to the GET stream).
   */
  route(message: ServerMessage, standaloneOpen: boolean): Route {
    switch (message.kind) {
      case 'response':
        return this.#settle(message.id);
      case 'notification':
        if (message.method === 'notifications/progress') {
          return this.#toSse(this.#byToken(message.progressToken));
        }
        if (message.method === 'notifications/message') return this.#related(standaloneOpen);
        return { stream: STANDALONE, ends: false };
      case 'request':
        return this.#related(standaloneOpen);
    }
  }

  /**
   * The client cancelled request `id` (notifications/cancelled): it will get no response, so it
   * settles now. Its route, or undefined when it was not in flight.
   */
  cancel(id: JsonRpcId): Route | undefined {
    if (!this.#pending.has(id)) return undefined;
    return this.#settle(id);
  }

  #settle(id: JsonRpcId | undefined): Route {
    const pending = id === undefined ? undefined : this.#pending.get(id);
    if (pending === undefined) return { stream: STANDALONE, ends: false };
    this.#pending.delete(id!);
    const state = this.#streams.get(pending.stream)!;
    state.open--;
    if (state.open > 0) return { stream: pending.stream, ends: false };
    this.#streams.delete(pending.stream);
    return { stream: pending.stream, ends: true };
  }

  #byToken(token: unknown): number {
    if (typeof token !== 'string' && typeof token !== 'number') return STANDALONE;
    for (const p of this.#pending.values()) if (p.token === token) return p.stream;
    return STANDALONE;
  }

  #related(standaloneOpen: boolean): Route {
    if (this.#pending.size === 1) {
      const only = this.#pending.values().next().value!;
      return this.#toSse(only.stream);
    }
    if (standaloneOpen) return { stream: STANDALONE, ends: false };
    for (const p of this.#pending.values()) {
      if (this.#streams.get(p.stream)?.sse === true) return { stream: p.stream, ends: false };
    }
    return { stream: STANDALONE, ends: false };
  }

  /** `stream` if it is an SSE stream, else the GET stream. */
  #toSse(stream: number): Route {
    const sse = stream !== STANDALONE && this.#streams.get(stream)?.sse === true;
    return { stream: sse ? stream : STANDALONE, ends: false };
  }
}
