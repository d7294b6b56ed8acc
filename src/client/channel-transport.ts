// The official MCP SDK's Transport over one MuxChannel, so that `new Client(info).connect(...)`
// drives the channel. Shaped like the SDK's Transport without depending on the SDK.

import type { JsonRpcId, JsonRpcMessage, McpTransport } from './types.js';

/** What the transport needs of its channel (a MuxChannel). */
export interface TransportChannel {
  readonly ready: Promise<unknown>;
  readonly session: string | undefined;
  send(message: object): void;
  close(): Promise<void>;
  /** Hands on a resumed session's buffered output, held until the transport starts. */
  releaseEarly(): void;
  /**
   * A new MCP client starts on a resumed channel with the initialize `id`: the resumed session's
   * buffered output, and whatever precedes the answer to that initialize, was the old client's.
   */
  startAfresh(id: JsonRpcId): void;
}

/**
 * The MCP SDK Transport of one channel (made by `MuxChannel.transport()`).
 *
 * A resumed channel's backlog (the relay's `replay: "now"` output, docs/protocol.md "Resume") is
 * delivered to `onmessage` once the turn of the event loop in which `start()` resolved has run,
 * unless the transport sent an `initialize` by then: an SDK Client sends it right after `start()`
 * (same turn), and a new client must not get the old one's answers as unknown ids, so the
 * backlog and everything before the initialize's answer are dropped. Any other first message
 * gets the backlog delivered before it goes out.
 */
export class ChannelTransport implements McpTransport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JsonRpcMessage, extra?: unknown) => void) | undefined;
  sessionId?: string | undefined;
  readonly #channel: TransportChannel;
  #started = false;
  /** Set from start() until the backlog's fate is decided (the first send or the next turn). */
  #deciding: ReturnType<typeof setTimeout> | undefined;

  constructor(channel: TransportChannel) {
    this.#channel = channel;
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error('the transport is already started');
    this.#started = true;
    await this.#channel.ready;
    // onmessage is set by now; the backlog waits for this turn's first send (see the class doc).
    this.#deciding = setTimeout(() => this.#decide(undefined), 0);
  }

  send(message: JsonRpcMessage): Promise<void> {
    if (this.#deciding !== undefined) this.#decide(message);
    try {
      this.#channel.send(message);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    // Set only now: the SDK's Client skips `initialize` on a transport that has a sessionId at
    // connect(), and a new Client needs the (remembered, on a resumed session) initialize result.
    this.sessionId ??= this.#channel.session;
    return Promise.resolve();
  }

  close(): Promise<void> {
    clearTimeout(this.#deciding);
    this.#deciding = undefined;
    return this.#channel.close();
  }

  #decide(first: JsonRpcMessage | undefined): void {
    clearTimeout(this.#deciding);
    this.#deciding = undefined;
    if (first?.method === 'initialize' && first.id !== undefined) {
      this.#channel.startAfresh(first.id);
    } else this.#channel.releaseEarly();
  }
}
