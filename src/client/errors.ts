// The errors of the mcpmux/client library: MuxError (relay or client failures, with a stable
// `reason`) and RpcError (a JSON-RPC error response to a request).

import type { JsonRpcErrorBody as JsonRpcErrorObject } from '../jsonrpc/types.js';

/**
 * A failure of the relay or of the client, with a stable `reason`: a relay reason from
 * docs/errors.md (`session_limit`, `unknown_service`, `idle_timeout`, …), or one of the client's
 * own: `timeout` (a deadline passed), `cancelled` (an AbortSignal), `connection_closed` (the
 * WebSocket closed), `connect_failed`, `protocol_mismatch` (the server did not accept mcpmux.v1).
 */
export class MuxError extends Error {
  readonly reason: string;
  /** The channel the error is about, if any. */
  readonly channel: string | undefined;
  /** The `data` of an `error` envelope, if any. */
  readonly data: Record<string, unknown> | undefined;

  constructor(
    reason: string,
    message: string,
    options: {
      channel?: string | undefined;
      data?: Record<string, unknown> | undefined;
      cause?: unknown;
    } = {},
  ) {
    super(message, 'cause' in options ? { cause: options.cause } : undefined);
    this.name = 'MuxError';
    this.reason = reason;
    this.channel = options.channel;
    this.data = options.data;
  }
}

/**
 * A JSON-RPC error response to a {@link MuxChannel.request}. `reason` is `data.reason` when the
 * relay made the error (`queue_full`, `request_timeout`, …), undefined when the server did.
 */
export class RpcError extends Error {
  readonly code: number;
  readonly data: unknown;
  readonly reason: string | undefined;

  constructor(error: JsonRpcErrorObject) {
    super(typeof error.message === 'string' ? error.message : 'JSON-RPC error');
    this.name = 'RpcError';
    this.code = error.code;
    this.data = error.data;
    const reason = (error.data as { reason?: unknown } | null | undefined)?.reason;
    this.reason = typeof reason === 'string' ? reason : undefined;
  }
}
