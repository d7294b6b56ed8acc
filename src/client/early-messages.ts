// Messages of a resumed channel that arrive before anyone can take them. MuxClient resumes with
// `"replay": "now"`, so the relay sends a resumed session's buffered output right after `opened`,
// i.e. before `await mux.open(...)` even returns; they are held here (bounded) and handed to the
// first taker: the channel's MCP transport once started (which drops them for a new SDK Client,
// see channel-transport.ts), or the first message/request/notification listener.

import type { JsonRpcMessage } from './types.js';

/** The most messages held (the relay's own resume buffer is bounded well below this). */
export const MAX_EARLY_MESSAGES = 10_000;

export class EarlyMessages {
  #held: JsonRpcMessage[] | undefined = [];

  /** True while messages are still held (nobody has taken them yet). */
  get holding(): boolean {
    return this.#held !== undefined;
  }

  /** Holds `message`; false when the bound is reached (the caller reports it). */
  hold(message: JsonRpcMessage): boolean {
    if (this.#held === undefined || this.#held.length >= MAX_EARLY_MESSAGES) return false;
    this.#held.push(message);
    return true;
  }

  /** Hands every held message to `deliver`, in order, once; from then on nothing is held. */
  release(deliver: (message: JsonRpcMessage) => void): void {
    const held = this.#held;
    this.#held = undefined;
    for (const message of held ?? []) deliver(message);
  }
}
