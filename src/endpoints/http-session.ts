// One Streamable HTTP session's HTTP side (docs/protocol.md, "Streamable HTTP"): the SessionSink
// of its Session, attached for the session's whole life. Every server message is routed to one
// stream (StreamRouter), logged with its event id (EventLog, byte-bounded) and written to the
// connection that stream has now, if any: a POST's SSE answer, a GET resuming it, or the
// standalone GET stream. A stream without a connection keeps its events in the log for a GET
// with Last-Event-ID. A request answered as JSON gets its response as the POST's body. A dropped
// connection cancels nothing. The Session keeps the request lifecycle (queue, deadlines, cancel).

import type { ServerResponse } from 'node:http';
import type { Reason } from '../errors.js';
import type { Classified, JsonRpcId } from '../jsonrpc/types.js';
import type { Logger } from '../log.js';
import { EventLog, type LoggedEvent } from '../http/event-log.js';
import { SSE_HEADERS, formatEventId, sseComment, sseEvent, ssePriming } from '../http/sse.js';
import { STANDALONE, StreamRouter, type ServerMessage } from '../http/stream-router.js';
import type { Session, SessionSink } from '../sessions/session.js';
import { sendText } from '../http/http-server.js';
import { primes } from '../http/mcp-http.js';

/** The `retry` a priming event gives: how long a client waits before it resumes a dropped stream. */
export const SSE_RETRY_MS = 500;

export interface HttpSessionOptions {
  /** Bytes of events kept for replay (session.max_resume_buffer_bytes). */
  logBytes: number;
  /** Bytes one connection may have queued unsent before it is dropped (session.max_buffered_bytes). */
  maxBufferedBytes: number;
  /** Milliseconds between keep-alive comments on an SSE connection (server.heartbeat_interval); 0 = none. */
  heartbeatMs: number;
  logger: Logger;
  /** The session ended: forget it. */
  onEnded: (session: HttpSession) => void;
}

/** A POST answered as JSON: its connection and the headers its answer carries. */
interface JsonAnswer {
  res: ServerResponse;
  headers: Record<string, string>;
}

/** What the router needs of a server message the Session has parsed already (no second parse). */
function fromDecoded(decoded: Classified): ServerMessage {
  switch (decoded.kind) {
    case 'response':
      return { kind: 'response', id: decoded.message.id };
    case 'request':
      return { kind: 'request', method: decoded.message.method };
    case 'notification': {
      const params = decoded.message.params as { progressToken?: unknown } | undefined;
      return {
        kind: 'notification',
        method: decoded.message.method,
        progressToken: params?.progressToken,
      };
    }
  }
}

/**
 * Reads what the router needs of a line that came without its parsed form (an error the relay
 * wrote, a replayed initialize answer): rare, so parsed here. The line is JSON (the relay's own).
 */
function describe(line: string): ServerMessage {
  const m = JSON.parse(line) as {
    id?: string | number;
    method?: string;
    params?: { progressToken?: unknown };
  };
  if (typeof m.method !== 'string') return { kind: 'response', id: m.id };
  if (m.id !== undefined) return { kind: 'request', method: m.method };
  return { kind: 'notification', method: m.method, progressToken: m.params?.progressToken };
}

export class HttpSession implements SessionSink {
  readonly session: Session;
  readonly router = new StreamRouter();
  readonly #log: EventLog;
  readonly #o: HttpSessionOptions;
  /** The SSE connection of each stream that has one now (0: the standalone GET stream). */
  readonly #live = new Map<number, ServerResponse>();
  readonly #json = new Map<number, JsonAnswer>();
  /** Sequence number of the last standalone event written to a GET connection. */
  #standaloneSent = 0;
  #ended = false;

  constructor(session: Session, options: HttpSessionOptions) {
    this.session = session;
    this.#o = options;
    this.#log = new EventLog(options.logBytes);
  }

  get ended(): boolean {
    return this.#ended;
  }
  get hasStandalone(): boolean {
    return this.#live.has(STANDALONE);
  }
  /**
   * True when SSE streams of this session start with a priming event: the request's
   * MCP-Protocol-Version or the revision the session negotiated at initialize is 2025-11-25 or later
   * (a raw request may name an older served revision inside a 2025-11-25 session).
   */
  primes(requestVersion: string): boolean {
    const negotiated = (this.session.initializeResult as { protocolVersion?: unknown } | undefined)
      ?.protocolVersion;
    return primes(requestVersion) || (typeof negotiated === 'string' && primes(negotiated));
  }

  /** Events dropped from the replay log for its byte bound. */
  get droppedEvents(): number {
    return this.#log.dropped;
  }

  /**
   * A POST's request(s) go to the server: `decoded` each with its `text`, answered on `res` as
   * SSE or (one request) as JSON. The caller has checked that none of the ids is in flight.
   */
  post(
    items: { decoded: Classified & { kind: 'request' }; text: string }[],
    res: ServerResponse,
    format: 'sse' | 'json',
    headers: Record<string, string>,
    priming: boolean,
  ): void {
    const stream = this.router.openStream(format === 'sse');
    for (const { decoded } of items) {
      const params = decoded.message.params as { _meta?: { progressToken?: unknown } } | undefined;
      this.router.addRequest(stream, decoded.message.id, params?._meta?.progressToken);
    }
    if (format === 'sse') {
      res.writeHead(200, { ...SSE_HEADERS, ...headers });
      if (priming) res.write(this.#priming(stream));
      else res.flushHeaders();
      this.#connect(stream, res);
    } else {
      this.#json.set(stream, { res, headers });
      res.once('close', () => this.#json.delete(stream));
    }
    for (const { decoded, text } of items) this.session.handle(decoded, text);
  }

  /**
   * A GET: the standalone stream (`from` undefined: what it has not delivered yet), or a resume of
   * stream `stream` after event `from` (Last-Event-ID). False when there is nothing to resume.
   */
  openStream(
    res: ServerResponse,
    stream: number,
    from: number | undefined,
    priming: boolean,
  ): boolean {
    const afterSeq = from ?? (stream === STANDALONE ? this.#standaloneSent : 0);
    const missed = this.#log.after(stream, afterSeq);
    const live = stream === STANDALONE || this.router.isOpen(stream);
    if (!live && missed.length === 0) return false;
    res.writeHead(200, SSE_HEADERS);
    if (missed.length === 0 && priming) {
      res.write(this.#priming(stream));
    } else res.flushHeaders();
    for (const e of missed) this.#write(res, e);
    if (!live) {
      res.once('finish', () => this.#log.forget(stream));
      res.end();
      return true;
    }
    this.#connect(stream, res);
    return true;
  }

  /**
   * The client cancelled request `id`: no response will come (the Session drops a late one), so
   * its stream ends now — an SSE stream is closed, a JSON answer is 204 with no body.
   */
  cancelled(id: JsonRpcId): void {
    const route = this.router.cancel(id);
    if (route === undefined || !route.ends) return;
    const json = this.#json.get(route.stream);
    if (json !== undefined) {
      this.#json.delete(route.stream);
      json.res.writeHead(204, json.headers);
      json.res.end();
      return;
    }
    const res = this.#live.get(route.stream);
    this.#live.delete(route.stream);
    if (res === undefined) this.#log.forget(route.stream);
    else {
      res.once('finish', () => this.#log.forget(route.stream));
      res.end();
    }
  }

  /** Ends the session (DELETE): its requests in flight are answered, its process stopped. */
  end(): Promise<void> {
    return this.session.close('session_closed');
  }

  // --- SessionSink ---

  send(line: string, decoded?: Classified): void {
    if (this.#ended) return;
    const message = decoded === undefined ? describe(line) : fromDecoded(decoded);
    const route = this.router.route(message, this.#live.has(STANDALONE));
    const json = this.#json.get(route.stream);
    if (json !== undefined) {
      this.#json.delete(route.stream);
      sendText(json.res, 200, line, 'application/json', json.headers);
      return;
    }
    const event = this.#log.append(route.stream, line);
    const res = this.#live.get(route.stream);
    if (res !== undefined) this.#write(res, event);
    if (route.ends && res !== undefined) {
      this.#live.delete(route.stream);
      // Handed to the kernel whole: the stream needs no replay any more (a resume → 404).
      res.once('finish', () => this.#log.forget(route.stream));
      res.end();
    }
  }

  closed(reason: Reason, message: string): void {
    if (this.#ended) return;
    this.#ended = true;
    this.#o.logger.debug({ reason, message }, 'streamable HTTP session ended');
    for (const res of this.#live.values()) res.end();
    this.#live.clear();
    for (const { res } of this.#json.values()) res.destroy();
    this.#json.clear();
    this.#log.clear();
    this.#o.onEnded(this);
  }

  // --- connections ---

  /** `res` is now the connection of `stream` (a previous one is ended: one per stream). */
  #connect(stream: number, res: ServerResponse): void {
    const previous = this.#live.get(stream);
    this.#live.set(stream, res);
    previous?.end();
    // A comment now and then keeps proxies from cutting a quiet stream (clients ignore it).
    const beat =
      this.#o.heartbeatMs > 0
        ? setInterval(() => res.write(sseComment('keep-alive')), this.#o.heartbeatMs).unref()
        : undefined;
    res.once('close', () => {
      clearInterval(beat);
      if (this.#live.get(stream) === res) this.#live.delete(stream);
    });
  }

  /** A priming event of `stream`: an id of its own, and the reconnect delay (SSE_RETRY_MS). */
  #priming(stream: number): string {
    return ssePriming(formatEventId({ stream, seq: this.#log.nextSeq() }), SSE_RETRY_MS);
  }

  #write(res: ServerResponse, event: LoggedEvent): void {
    if (res.destroyed) return;
    res.write(sseEvent(formatEventId(event), event.data));
    if (event.stream === STANDALONE) this.#standaloneSent = event.seq;
    // A client that does not read: drop its connection (it may resume from the log), never grow.
    if (res.writableLength > this.#o.maxBufferedBytes) res.destroy();
  }
}
