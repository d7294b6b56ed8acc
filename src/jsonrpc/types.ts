// JSON-RPC 2.0 message shapes as MCP uses them (no batches, ids are strings or integers).

export type JsonRpcId = string | number;

export interface JsonRpcRequest {
  jsonrpc: '2.0';
  id: JsonRpcId;
  method: string;
  params?: Record<string, unknown> | unknown[];
}

export interface JsonRpcNotification {
  jsonrpc: '2.0';
  method: string;
  params?: Record<string, unknown> | unknown[];
}

export interface JsonRpcErrorBody {
  code: number;
  message: string;
  data?: unknown;
}

export interface JsonRpcSuccess {
  jsonrpc: '2.0';
  id: JsonRpcId;
  result: unknown;
}

export interface JsonRpcFailure {
  jsonrpc: '2.0';
  /** Omitted when the request's id could not be read (MCP's schema rejects `id: null`). */
  id?: JsonRpcId;
  error: JsonRpcErrorBody;
}

export type JsonRpcResponse = JsonRpcSuccess | JsonRpcFailure;
export type JsonRpcMessage = JsonRpcRequest | JsonRpcNotification | JsonRpcResponse;

/** A message sorted by kind, as the relay routes it. */
export type Classified =
  | { kind: 'request'; message: JsonRpcRequest }
  | { kind: 'notification'; message: JsonRpcNotification }
  | { kind: 'response'; message: JsonRpcResponse };

/**
 * What is wrong with a value that is not an acceptable message: not JSON, a batch array, nesting
 * deeper than MAX_NESTING_DEPTH, or any other shape (a server's stdout line: junk or fatal by it).
 */
export type InvalidProblem = 'not_json' | 'batch' | 'too_deep' | 'shape';

/** Why a value is not an acceptable message; `id` is set when the bad message had a usable id. */
export interface Invalid {
  kind: 'invalid';
  reason: 'parse_error' | 'invalid_request';
  problem: InvalidProblem;
  detail: string;
  id?: JsonRpcId;
}
