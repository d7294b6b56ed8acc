// Pure JSON-RPC validation: one JSON.parse per frame, then a strict shape check matching what
// SDK-built MCP servers accept (they silently drop anything else, so the relay must answer it).

import type { Classified, Invalid, JsonRpcId, JsonRpcMessage } from './types.js';

const ALLOWED_KEYS = new Set(['jsonrpc', 'id', 'method', 'params', 'result', 'error']);

export function isJsonRpcId(value: unknown): value is JsonRpcId {
  return typeof value === 'string' || (typeof value === 'number' && Number.isSafeInteger(value));
}

function invalid(detail: string, id?: JsonRpcId): Invalid {
  return id === undefined
    ? { kind: 'invalid', reason: 'invalid_request', detail }
    : { kind: 'invalid', reason: 'invalid_request', detail, id };
}

/** Sorts an already-parsed value into request / notification / response, or says why it is none. */
export function classify(value: unknown): Classified | Invalid {
  if (Array.isArray(value)) return invalid('batches are not supported');
  if (typeof value !== 'object' || value === null)
    return invalid('a message must be a JSON object');
  const msg = value as Record<string, unknown>;
  const id = isJsonRpcId(msg.id) ? msg.id : undefined;
  if (msg.jsonrpc !== '2.0') return invalid('jsonrpc must be "2.0"', id);
  for (const key in msg) {
    if (!ALLOWED_KEYS.has(key)) return invalid(`unexpected member "${key}"`, id);
  }
  if ('id' in msg && id === undefined) {
    return invalid(msg.id === null ? 'id must not be null' : 'id must be a string or an integer');
  }
  if (msg.params !== undefined && (typeof msg.params !== 'object' || msg.params === null)) {
    return invalid('params must be an object or an array', id);
  }
  if ('method' in msg) {
    if (typeof msg.method !== 'string' || msg.method === '') {
      return invalid('method must be a non-empty string', id);
    }
    if ('result' in msg || 'error' in msg) return invalid('a request has no result or error', id);
    return id === undefined
      ? { kind: 'notification', message: msg as never }
      : { kind: 'request', message: msg as never };
  }
  if (id === undefined) {
    // An error response may omit the id (it could not be read); nothing can route it.
    return invalid('a response needs an id');
  }
  const hasResult = 'result' in msg;
  const hasError = 'error' in msg;
  if (hasResult === hasError) return invalid('a response has exactly one of result and error', id);
  if (hasError && !isErrorBody(msg.error)) {
    return invalid('error must be {code: integer, message: string}', id);
  }
  return { kind: 'response', message: msg as never };
}

function isErrorBody(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  const e = value as Record<string, unknown>;
  return Number.isInteger(e.code) && typeof e.message === 'string';
}

/** Parses one frame or line of text; the only JSON.parse on the relay's inbound path. */
export function decodeMessage(text: string): Classified | Invalid {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    return { kind: 'invalid', reason: 'parse_error', detail: (err as Error).message };
  }
  return classify(value);
}

/** True when `text` can go to a stdio server as one line without re-serialising it. */
export function isSingleLine(text: string): boolean {
  return !text.includes('\n') && !text.includes('\r');
}

/** One line for a stdio server: the client's text when it already is one line, else re-serialised. */
export function toLine(text: string, message: JsonRpcMessage): string {
  return isSingleLine(text) ? text : JSON.stringify(message);
}
