// The one catalogue of relay-made errors (docs/errors.md): a stable reason string, its JSON-RPC code, its
// WebSocket close code on a direct connection, its HTTP status on the REST API. docs/errors.md lists
// every entry; test/unit/errors.test.ts keeps the two in sync.

export interface ReasonInfo {
  /** JSON-RPC error code of a relay-made error response with this reason. */
  readonly code: number;
  /** WebSocket close code when this reason ends a direct (/mcp/{service}) connection, if it does. */
  readonly closeCode: number | null;
  /** HTTP status when the REST API or an upgrade answers with this reason. */
  readonly httpStatus: number;
  /** One line for docs and default messages. */
  readonly summary: string;
}

export const REASONS = {
  parse_error: {
    code: -32700,
    closeCode: null,
    httpStatus: 400,
    summary: 'The frame or body is not valid JSON.',
  },
  invalid_request: {
    code: -32600,
    closeCode: null,
    httpStatus: 400,
    summary:
      'Not a single JSON-RPC 2.0 request, notification or response (batches, id null, fractional ids, extra shapes).',
  },
  request_timeout: {
    code: -32001,
    closeCode: null,
    httpStatus: 504,
    summary:
      "No response within the service's request_timeout; the server was sent notifications/cancelled.",
  },
  queue_full: {
    code: -32000,
    closeCode: null,
    httpStatus: 503,
    summary:
      "The service's queue already holds queue_limit waiting requests; retry after data.retry_after_ms.",
  },
  rate_limited: {
    code: -32000,
    closeCode: null,
    httpStatus: 429,
    summary:
      'The client address exceeded rate_limiting.requests_per_minute or a SignalWire limit (call_limit, …).',
  },
  upstream_exited: {
    code: -32000,
    closeCode: 4000,
    httpStatus: 502,
    summary: "The session's server process exited; data has exit_code, signal and stderr_tail.",
  },
  spawn_failed: {
    code: -32000,
    closeCode: 4001,
    httpStatus: 502,
    summary: 'The server process could not be started (command not found, sandbox set-up failed).',
  },
  session_closed: {
    code: -32000,
    closeCode: 4002,
    httpStatus: 410,
    summary:
      'The session was closed (by the client, an operator or the REST API) while a request was pending.',
  },
  idle_timeout: {
    code: -32000,
    closeCode: 4003,
    httpStatus: 410,
    summary: "The session saw no traffic for its service's idle_timeout and was stopped.",
  },
  slow_consumer: {
    code: -32000,
    closeCode: 4004,
    httpStatus: 503,
    summary: 'The client read its output too slowly; the buffered output passed its bound.',
  },
  session_limit: {
    code: -32000,
    closeCode: 4005,
    httpStatus: 503,
    summary: 'max_sessions_per_service or max_total_sessions reached; nothing was spawned.',
  },
  shutting_down: {
    code: -32000,
    closeCode: 1001,
    httpStatus: 503,
    summary: 'The relay is shutting down.',
  },
  upstream_protocol_error: {
    code: -32000,
    closeCode: 4006,
    httpStatus: 502,
    summary:
      'The server broke the protocol on stdout (sustained junk, a batch, a line over max_message_bytes, nesting too deep).',
  },
  unknown_service: {
    code: -32000,
    closeCode: 4007,
    httpStatus: 404,
    summary: 'No service of that name is configured.',
  },
  service_disabled: {
    code: -32000,
    closeCode: 4008,
    httpStatus: 404,
    summary: 'The service is configured with enabled: false.',
  },
  unknown_session: {
    code: -32000,
    closeCode: 4009,
    httpStatus: 404,
    summary:
      'No live session has that id (it never existed, was closed, or its resume window ran out).',
  },
  session_in_use: {
    code: -32000,
    closeCode: 4010,
    httpStatus: 409,
    summary: 'The session is attached to another channel.',
  },
  message_too_large: {
    code: -32000,
    closeCode: 1009,
    httpStatus: 413,
    summary: 'A frame or body is larger than max_message_bytes.',
  },
  channel_limit: {
    code: -32000,
    closeCode: null,
    httpStatus: 429,
    summary: 'The connection already carries max_channels_per_connection channels.',
  },
  connection_limit: {
    code: -32000,
    closeCode: 1013,
    httpStatus: 503,
    summary: 'The relay already holds max_connections connections (or the per-address cap).',
  },
  bad_envelope: {
    code: -32000,
    closeCode: 1008,
    httpStatus: 400,
    summary: 'A /ws frame is not a valid mcpmux.v1 envelope.',
  },
  unknown_channel: {
    code: -32000,
    closeCode: null,
    httpStatus: 400,
    summary: 'A /ws envelope names a channel that is not open.',
  },
  channel_exists: {
    code: -32000,
    closeCode: null,
    httpStatus: 409,
    summary: 'A /ws open names a channel that is already open.',
  },
  unauthorized: {
    code: -32000,
    closeCode: 1008,
    httpStatus: 401,
    summary: 'Missing or wrong credentials.',
  },
  forbidden_origin: {
    code: -32000,
    closeCode: 1008,
    httpStatus: 403,
    summary: 'The browser Origin is not in server.allowed_origins.',
  },
  forbidden_host: {
    code: -32000,
    closeCode: 1008,
    httpStatus: 403,
    summary: 'The Host header is not allowed (server.allowed_hosts; DNS rebinding guard).',
  },
  unsupported_media_type: {
    code: -32000,
    closeCode: null,
    httpStatus: 415,
    summary: 'A POST body is not declared as Content-Type: application/json.',
  },
  not_found: { code: -32000, closeCode: null, httpStatus: 404, summary: 'No such route.' },
  method_not_allowed: {
    code: -32000,
    closeCode: null,
    httpStatus: 405,
    summary: 'The route exists but not for this HTTP method.',
  },
  bad_input: {
    code: -32602,
    closeCode: null,
    httpStatus: 400,
    summary: 'A REST body or parameter has a wrong shape or type.',
  },
  cancelled: {
    code: -32800,
    closeCode: null,
    httpStatus: 499,
    summary: 'The request was cancelled by its caller before it completed.',
  },
  upstream_error: {
    code: -32000,
    closeCode: null,
    httpStatus: 502,
    summary:
      'REST only: the MCP server answered the call with a JSON-RPC error (its code and message are in the body).',
  },
  invalid_params: {
    code: -32602,
    closeCode: null,
    httpStatus: 400,
    summary:
      'REST only: the MCP server refused the call as invalid params (-32602: an unknown tool, arguments that do not fit).',
  },
  unsupported_version: {
    code: -32600,
    closeCode: null,
    httpStatus: 400,
    summary:
      'Streamable HTTP: an MCP-Protocol-Version (or a 2026-07-28 request such as server/discover) the relay does not serve; data.supported lists the revisions served.',
  },
  missing_session_id: {
    code: -32600,
    closeCode: null,
    httpStatus: 400,
    summary:
      'Streamable HTTP: a request other than initialize came without an Mcp-Session-Id header.',
  },
  not_acceptable: {
    code: -32000,
    closeCode: null,
    httpStatus: 406,
    summary:
      'Streamable HTTP: the Accept header allows neither application/json nor text/event-stream (GET: text/event-stream).',
  },
  stream_conflict: {
    code: -32000,
    closeCode: null,
    httpStatus: 409,
    summary:
      'Streamable HTTP: the session already has a standalone GET stream open (resume it with Last-Event-ID instead).',
  },
  internal_error: {
    code: -32603,
    closeCode: 1011,
    httpStatus: 500,
    summary: 'A fault inside the relay.',
  },
} as const satisfies Record<string, ReasonInfo>;

export type Reason = keyof typeof REASONS;

export function isReason(value: unknown): value is Reason {
  return typeof value === 'string' && Object.hasOwn(REASONS, value);
}

/** Extra fields a reason may carry in `data` (documented per reason in docs/errors.md). */
export type ErrorData = Record<string, unknown>;

/** An error the relay raises itself, carrying a catalogue reason and structured data. */
export class McpmuxError extends Error {
  readonly reason: Reason;
  readonly data: ErrorData;

  constructor(
    reason: Reason,
    message?: string,
    data: ErrorData = {},
    options?: { cause?: unknown },
  ) {
    super(message ?? REASONS[reason].summary, options);
    this.name = 'McpmuxError';
    this.reason = reason;
    this.data = data;
  }

  get code(): number {
    return REASONS[this.reason].code;
  }
}

/** An error response from the MCP server itself, passed through untouched. */
export class UpstreamError extends Error {
  readonly code: number;
  readonly data: unknown;

  constructor(error: { code: number; message: string; data?: unknown }) {
    super(error.message);
    this.name = 'UpstreamError';
    this.code = error.code;
    this.data = error.data;
  }
}

export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

/** The only place a JSON-RPC error object for a client is built from a relay error. */
export function toJsonRpcError(err: unknown): JsonRpcErrorObject {
  if (err instanceof UpstreamError) {
    return err.data === undefined
      ? { code: err.code, message: err.message }
      : { code: err.code, message: err.message, data: err.data };
  }
  const e =
    err instanceof McpmuxError
      ? err
      : new McpmuxError('internal_error', 'Internal relay error', {}, { cause: err });
  return { code: e.code, message: e.message, data: { ...e.data, reason: e.reason } };
}

export function closeCodeFor(reason: Reason): number {
  return REASONS[reason].closeCode ?? 1011;
}

/** A whole JSON-RPC error response, serialised; the id is omitted when it could not be read. */
export function errorResponse(id: string | number | undefined, err: unknown): string {
  const error = toJsonRpcError(err);
  return JSON.stringify(
    id === undefined ? { jsonrpc: '2.0', error } : { jsonrpc: '2.0', id, error },
  );
}
