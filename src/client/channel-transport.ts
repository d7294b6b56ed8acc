// The official MCP SDK's Transport over one MuxChannel, so that `new Client(info).connect(...)`
// drives the channel. Shaped like the SDK's Transport without depending on the SDK.

import type { JsonRpcMessage, McpTransport } from './types.js';

/** What the transport needs of its channel (a MuxChannel). */
export interface TransportChannel {
  readonly ready: Promise<unknown>;
  readonly session: string | undefined;
  send(message: object): void;
  close(): Promise<void>;
  /** Hands on a resumed session's buffered output, held until the transport starts. */
  releaseEarly(): void;
}

/** The MCP SDK Transport of one channel (made by `MuxChannel.transport()`). */
export class ChannelTransport implements McpTransport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JsonRpcMessage, extra?: unknown) => void) | undefined;
  sessionId?: string | undefined;
  readonly #channel: TransportChannel;
  #started = false;

  constructor(channel: TransportChannel) {
    this.#channel = channel;
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error('the transport is already started');
    this.#started = true;
    await this.#channel.ready;
    // A resumed session's buffered output, held since `opened` (onmessage is set by now).
    this.#channel.releaseEarly();
  }

  send(message: JsonRpcMessage): Promise<void> {
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
    return this.#channel.close();
  }
}
