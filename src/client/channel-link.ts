// The internal contract between a MuxClient and its MuxChannels (not part of the public API):
// what a channel needs from its client, and what the client hands a channel's envelopes to.

import type { MuxError } from './errors.js';

/** The client's deadlines, resolved from {@link MuxClientOptions}. */
export interface Timeouts {
  openMs: number;
  requestMs: number;
  closeMs: number;
}

/** What a channel needs from its client. */
export interface ChannelLink {
  readonly timeouts: Timeouts;
  send(text: string): boolean;
  forget(id: string): void;
  report(error: MuxError): void;
}

/** What the client hands a channel's envelopes to. */
export interface ChannelInbox {
  opened(session: string, resumed: boolean, resumeToken: string): void;
  message(message: unknown): void;
  closed(error: MuxError): void;
  error(error: MuxError): void;
}

/** `value` when it is a usable deadline (finite, >= 0), else `fallback`. */
export function timeoutOf(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value >= 0 ? value : fallback;
}
