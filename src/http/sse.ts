// Server-Sent Events framing for the Streamable HTTP endpoint (docs/protocol.md, "Streamable
// HTTP"). An event id names its stream and its place in the session's event log: `<stream>-<seq>`
// (both non-negative integers), so a GET with Last-Event-ID replays only that stream. PURE: no I/O.

/** The headers of an SSE answer (no caching, no proxy buffering). */
export const SSE_HEADERS = {
  'content-type': 'text/event-stream',
  'cache-control': 'no-cache, no-store',
  'x-accel-buffering': 'no',
  'x-content-type-options': 'nosniff',
} as const;

/** An event id: the stream it belongs to and its sequence number within the session. */
export interface EventId {
  stream: number;
  seq: number;
}

export function formatEventId(id: EventId): string {
  return `${id.stream}-${id.seq}`;
}

/** Reads a Last-Event-ID; undefined when it is not one the relay issued (`<stream>-<seq>`). */
export function parseEventId(text: string | undefined): EventId | undefined {
  if (text === undefined) return undefined;
  const m = /^(\d{1,15})-(\d{1,15})$/.exec(text.trim());
  if (m === null) return undefined;
  return { stream: Number(m[1]), seq: Number(m[2]) };
}

/**
 * One `message` event carrying `data` (a JSON-RPC message on one line). Any line break in `data`
 * becomes its own `data:` line, so the event can never end early or inject a field.
 */
export function sseEvent(id: string | undefined, data: string): string {
  const lines = data.split(/\r\n|\r|\n/);
  const head = id === undefined ? '' : `id: ${id}\n`;
  return `${head}${lines.map((l) => `data: ${l}`).join('\n')}\n\n`;
}

/**
 * The priming event (MCP 2025-11-25): an id and an empty data field, sent first on a stream so the
 * client can resume it with Last-Event-ID even if it drops before the first message; `retryMs`
 * tells the client how long to wait before reconnecting.
 */
export function ssePriming(id: string, retryMs?: number): string {
  const retry = retryMs === undefined ? '' : `retry: ${Math.max(0, Math.round(retryMs))}\n`;
  return `id: ${id}\n${retry}data: \n\n`;
}

/** A comment line: keeps an idle stream alive through proxies; clients ignore it. */
export function sseComment(text: string): string {
  return `: ${text.replace(/[\r\n]+/g, ' ')}\n\n`;
}
