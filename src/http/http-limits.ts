// Limits node:http and ws enforce for us, set from the config: how long a client may take to
// send a request (headers, then the whole request), and the close reason of an oversized frame.

import type { EventEmitter } from 'node:events';
import type { WebSocket } from 'ws';
import type { ServerConfig } from '../config/types.js';
import { REASONS } from '../errors.js';

/**
 * Options for node:http's server: it answers 408 and closes a connection whose headers
 * (headers_timeout) or whole request (body_timeout) took longer, silent connections included.
 * It looks every connectionsCheckingInterval (default 30 s), so a short timeout is looked at as
 * often as it needs.
 */
export function httpTimeouts(server: Pick<ServerConfig, 'headers_timeout' | 'body_timeout'>): {
  headersTimeout: number;
  requestTimeout: number;
  connectionsCheckingInterval: number;
} {
  const headersTimeout = Math.round(server.headers_timeout * 1000);
  return {
    headersTimeout,
    requestTimeout: Math.max(headersTimeout, Math.round(server.body_timeout * 1000)),
    connectionsCheckingInterval: Math.max(100, Math.min(1000, Math.round(headersTimeout / 2))),
  };
}

/**
 * ws closes a connection with 1009 and an empty reason when a frame passes maxPayload; this gives
 * that close the catalogue's reason (`message_too_large: ...`). It relies on ws's receiver emitting
 * the error before ws closes (ws 8): our listener closes first, ws's own close is then a no-op.
 */
export function reasonOnOversize(ws: WebSocket, maxBytes: number): void {
  const receiver = (ws as unknown as { _receiver?: EventEmitter })._receiver;
  receiver?.prependListener('error', (err: Error & { code?: string }) => {
    if (err.code !== 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH' || ws.readyState !== ws.OPEN) return;
    const code = REASONS.message_too_large.closeCode;
    ws.close(code, `message_too_large: a frame over ${maxBytes} bytes`);
  });
}
