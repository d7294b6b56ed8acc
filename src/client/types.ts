// The public types and constants of the mcpmux/client library; mux-client.ts re-exports all of
// this module. Nothing here runs: types, and three constants.

// The protocol's constants and JSON-RPC types are the relay's own (pure modules, no node:*).
import { DETACH_CLOSE_CODE, MUX_SUBPROTOCOL } from '../channel/envelope.js';
import type { JsonRpcErrorBody, JsonRpcId } from '../jsonrpc/types.js';
import type { MuxError } from './errors.js';

export type { JsonRpcId };

/** The WebSocket subprotocol of `/ws`. */
export const MCPMUX_SUBPROTOCOL = MUX_SUBPROTOCOL;

/** Default deadline of every wait (connect, open, request, close): 30 s. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Close code that detaches the connection's sessions (kept for resume_window) instead of stopping them. */
export { DETACH_CLOSE_CODE };

/** The `error` member of a JSON-RPC error response. */
export type JsonRpcErrorObject = JsonRpcErrorBody;

/** Any JSON-RPC 2.0 message (request, notification or response), loosely typed. */
export interface JsonRpcMessage {
  jsonrpc: '2.0';
  id?: JsonRpcId | undefined;
  method?: string | undefined;
  params?: unknown;
  result?: unknown;
  error?: JsonRpcErrorObject | undefined;
}

/** A request the server sends to the client (sampling/createMessage, roots/list, ping, …). */
export interface JsonRpcRequest extends JsonRpcMessage {
  id: JsonRpcId;
  method: string;
}

/** A notification from the server (progress, logging, list_changed, …). */
export interface JsonRpcNotification extends JsonRpcMessage {
  method: string;
}

/** The part of the WHATWG WebSocket API MuxClient uses. Browsers' WebSocket and ws's fit. */
export interface WebSocketLike {
  readonly readyState: number;
  readonly protocol: string;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  addEventListener(
    type: 'open' | 'message' | 'close' | 'error',
    listener: (event: SocketEvent) => void,
  ): void;
  removeEventListener(
    type: 'open' | 'message' | 'close' | 'error',
    listener: (event: SocketEvent) => void,
  ): void;
}

/** What MuxClient reads from WebSocket events (MessageEvent, CloseEvent, ErrorEvent). */
export interface SocketEvent {
  readonly type: string;
  readonly data?: unknown;
  readonly code?: number;
  readonly reason?: string;
  readonly message?: string;
}

/** A WebSocket constructor: `globalThis.WebSocket`, or `WebSocket` from the `ws` package. */
export type WebSocketConstructor = new (url: string, protocols?: string[]) => WebSocketLike;

/** Options of {@link MuxClient.connect}. */
export interface MuxClientOptions {
  /** The WebSocket constructor to use; default `globalThis.WebSocket`. */
  WebSocket?: WebSocketConstructor;
  /** Subprotocols to offer; default `['mcpmux.v1']`. */
  protocols?: string[];
  /** Deadline of the connection's handshake and default deadline of each channel open, in ms. */
  openTimeoutMs?: number;
  /** Default deadline of {@link MuxChannel.request}, in ms. */
  requestTimeoutMs?: number;
  /** Deadline of {@link MuxChannel.close} and {@link MuxClient.close}, in ms. */
  closeTimeoutMs?: number;
}

/** Options of {@link MuxClient.open} and {@link MuxClient.openChannel}. */
export interface OpenOptions {
  /** The channel's name (1–128 characters); default `c1`, `c2`, … (the first one not in use). */
  channel?: string;
  /**
   * The resume token of a detached session to resume (within the relay's resume_window): the
   * {@link MuxChannel.resumeToken} its channel was given. A session id cannot resume. The
   * session's buffered output is kept for the channel's first taker (docs/protocol.md § 6).
   */
  resume?: string;
  /** Deadline for the `opened` envelope, in ms; default the client's `openTimeoutMs`. */
  timeoutMs?: number;
}

/** Options of {@link MuxChannel.request}. */
export interface RequestOptions {
  /** Deadline for the response, in ms; default the client's `requestTimeoutMs`. */
  timeoutMs?: number;
  /** Aborting it rejects the request (reason `cancelled`) and cancels it at the server. */
  signal?: AbortSignal;
}

/** Why a channel ended: a relay reason (`idle_timeout`, `upstream_exited`, …) or a client one. */
export interface ClosedInfo {
  reason: string;
  message: string;
}

/** Events of a {@link MuxChannel}, by name, with their payload. */
export interface MuxChannelEvents {
  /** Every message from the server that is not the response to a {@link MuxChannel.request}. */
  message: JsonRpcMessage;
  /** A request from the server; answer it with `respond` or `respondError`. */
  request: JsonRpcRequest;
  /** A notification from the server. */
  notification: JsonRpcNotification;
  /** The channel ended; emitted once. */
  closed: ClosedInfo;
  /** An `error` envelope about this channel after it opened. */
  error: MuxError;
}

/** Events of a {@link MuxClient}, by name, with their payload. */
export interface MuxClientEvents {
  /** An `error` envelope about no channel (or one no channel listener took), or a socket error. */
  error: MuxError;
  /** The WebSocket closed; emitted once, after every channel got `closed`. */
  close: { code: number; reason: string };
}

/**
 * The official MCP SDK's `Transport` shape (`@modelcontextprotocol/sdk/shared/transport.js`),
 * declared here so the client does not depend on the SDK.
 */
export interface McpTransport {
  start(): Promise<void>;
  send(message: JsonRpcMessage, options?: unknown): Promise<void>;
  close(): Promise<void>;
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JsonRpcMessage, extra?: unknown) => void) | undefined;
  sessionId?: string | undefined;
}

/** State of a channel: `opening` until `opened`, `closing` after {@link MuxChannel.close}. */
export type MuxChannelState = 'opening' | 'open' | 'closing' | 'closed';
