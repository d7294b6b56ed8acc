// A session: one MCPClient bound to one channel at a time. It hands the client's requests, and the
// relay's own (request(): the REST API's calls), to its ClientRequests — one lifecycle for both:
// the service queue, the channel's order, deadlines, progress, cancellation, metrics — and routes
// the server's messages back to the attached sink (for a sink no client is behind, a REST
// session's, it answers the server's requests itself, at once); buffers them while detached for a
// resume (bounded in messages and in bytes: past either the session ends with slow_consumer), and
// on a resume holds them until the client's first message says who it is (docs/protocol.md
// "Replay"); answers a repeated initialize from memory; enforces the idle timeout; pauses the
// client while the server's stdin is full; and on the process's death fails every request in
// flight at once and closes its channel.

import { McpmuxError, errorResponse, type ErrorData, type Reason } from '../errors.js';
import { toLine } from '../jsonrpc/codec.js';
import type {
  Classified,
  JsonRpcId,
  JsonRpcNotification,
  JsonRpcRequest,
  JsonRpcResponse,
} from '../jsonrpc/types.js';
import type { Logger } from '../log.js';
import { exitError } from '../mcp/mcp-helpers.js';
import { ClientRequests } from './client-requests.js';
import {
  MAX_SERVER_REQUESTS,
  type SessionSink,
  type SessionState,
  type SessionStats,
  type SessionTransport,
  type Upstream,
} from './session-types.js';
import type { RequestObserver } from './request-outcome.js';
import type { RequestQueue } from './request-queue.js';
import { ResumeBuffer } from './resume-buffer.js';

export type { RequestObserver, RequestOutcome } from './request-outcome.js';
export type { SessionSink, SessionState, SessionStats, SessionTransport, Upstream };

export interface SessionOptions {
  idleTimeoutMs: number;
  resumeWindowMs: number;
  resumeBufferMessages: number;
  /** Bytes of server messages kept for a detached session (UTF-8). */
  resumeBufferBytes: number;
  logger: Logger;
  /** Called once the session has ended and its process is gone. */
  onClosed?: (session: Session, reason: Reason) => void;
  /** Request accounting (metrics), if any. */
  observer?: RequestObserver | undefined;
  /** How the session was opened (GET /sessions); `websocket` when not given. */
  transport?: SessionTransport | undefined;
}

export class Session {
  readonly id: string;
  readonly client: Upstream;
  readonly transport: SessionTransport;
  readonly createdAt = Date.now();
  lastActivity = Date.now();
  readonly #options: SessionOptions;
  readonly #log: Logger;
  readonly #requests: ClientRequests;
  #sink: SessionSink | undefined;
  #state: SessionState = 'detached';
  readonly #buffer: ResumeBuffer;
  #initializeId: JsonRpcId | undefined;
  #initializeResult: unknown;
  #initializedSent = false;
  #idleTimer: NodeJS.Timeout | undefined;
  #resumeTimer: NodeJS.Timeout | undefined;
  #closing: Promise<void> | undefined;
  #stdinDrained: Promise<void> | undefined;
  #idleWaiters: (() => void)[] = [];
  /** Resumed in the default replay mode: the server's output waits for the client's first message. */
  #holding = false;
  /** Server→client requests the client has not answered (bounded: a server cannot grow it). */
  readonly #serverRequests = new Set<JsonRpcId>();

  constructor(client: Upstream, queue: RequestQueue, options: SessionOptions) {
    this.id = client.sessionId;
    this.client = client;
    this.transport = options.transport ?? 'websocket';
    this.#options = options;
    this.#log = options.logger;
    this.#buffer = new ResumeBuffer(options.resumeBufferMessages, options.resumeBufferBytes);
    this.#requests = new ClientRequests({
      queue,
      deadlines: {
        requestTimeoutMs: client.service.requestTimeoutMs,
        maxRequestTimeMs: client.service.maxRequestTimeMs,
      },
      write: this.#write,
      toClient: (line) => this.#toClient(line),
      observer: options.observer,
      onIdle: () => this.#checkIdle(),
    });
    client.on('response', (message, line) => {
      if (message.id !== undefined) this.#onResponse(message, message.id, line);
    });
    client.on('notification', (message, line) => this.#onNotification(message, line));
    client.on('request', (message, line) => this.#onServerRequest(message, line));
    client.once('exit', (info) => {
      if (!info.requested) void this.close('upstream_exited', exitError(info));
    });
    // The server broke the protocol: every request in flight gets that error now, not a timeout.
    client.once('protocol_error', (err) => void this.close('upstream_protocol_error', err));
    this.#armIdle();
  }

  get state(): SessionState {
    return this.#state;
  }
  get inflightCount(): number {
    return this.#requests.size;
  }
  get serviceName(): string {
    return this.client.service.name;
  }
  /** The server's answer to the client's first initialize, if any. */
  get initializeResult(): unknown {
    return this.#initializeResult;
  }

  /** Resolves once no request is in flight (at once when none is). */
  whenIdle(): Promise<void> {
    if (this.inflightCount === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  stats(): SessionStats {
    return {
      state: this.#state,
      inflight: this.#requests.size,
      createdAt: this.createdAt,
      lastActivity: this.lastActivity,
    };
  }

  /**
   * Binds a channel. The server messages buffered while detached are delivered first, in order;
   * with `holdBacklog` (a resume that did not ask for `replay=now`) they, and what the server
   * writes meanwhile, are held in the same bounded buffer until the client's first message
   * decides what they were for (#release, docs/protocol.md "Resume").
   */
  attach(sink: SessionSink, holdBacklog = false): void {
    if (this.#state === 'attached') throw new McpmuxError('session_in_use');
    if (this.#state !== 'detached') throw new McpmuxError('unknown_session');
    clearTimeout(this.#resumeTimer);
    this.#sink = sink;
    this.#state = 'attached';
    this.#holding = holdBacklog;
    if (!holdBacklog) for (const line of this.#buffer.take()) sink.send(line);
    // The server's stdin is still full from before: this channel waits for it like the last one.
    if (this.#stdinDrained !== undefined) sink.inputCongested?.(this.#stdinDrained);
    this.lastActivity = Date.now();
  }

  /** The channel's connection dropped: keep the process for resume_window, buffering its output. */
  detach(): void {
    if (this.#state !== 'attached') return;
    this.#sink = undefined;
    this.#state = 'detached';
    this.#holding = false; // what was held stays in the buffer for the next resume
    this.#resumeTimer = setTimeout(
      () =>
        void this.close(
          'session_closed',
          new McpmuxError('session_closed', 'resume window expired'),
        ),
      this.#options.resumeWindowMs,
    );
    this.#resumeTimer.unref();
  }

  /** Pauses reading the server's stdout (the client is congested). */
  pause(): void {
    this.client.pauseOutput();
  }
  resume(): void {
    this.client.resumeOutput();
  }

  /** A message from the client; `text` is the frame it came in (one parse, no re-serialising). */
  handle(decoded: Classified, text: string): void {
    if (this.#state === 'closing' || this.#state === 'closed') return;
    if (this.#holding) this.#release(decoded);
    this.lastActivity = Date.now();
    switch (decoded.kind) {
      case 'request':
        return this.#onClientRequest(decoded.message, text);
      case 'notification':
        return this.#onClientNotification(decoded.message, text);
      case 'response':
        // The answer to a server→client request: straight to the server, never queued.
        this.#write(toLine(text, decoded.message));
        if (this.#serverRequests.delete(decoded.message.id as JsonRpcId)) {
          this.#requests.serverWaiting(false);
        }
        return;
    }
  }

  /**
   * A request the relay makes itself on this session (a REST call): the same lifecycle as a
   * client's (ClientRequests), in the relay's own id namespace, with `timeoutMs` as its
   * request_timeout. Resolves with the server's result; rejects with the server's error
   * (UpstreamError) or the relay's: queue_full, request_timeout, or why the session ended
   * (shutting_down, idle_timeout, upstream_exited …).
   */
  async request(
    method: string,
    params: Record<string, unknown>,
    timeoutMs: number,
  ): Promise<unknown> {
    if (this.#state === 'closing' || this.#state === 'closed') {
      throw new McpmuxError('session_closed', 'the session is closed');
    }
    this.lastActivity = Date.now();
    try {
      return await this.#requests.relay(this.client.nextRequestId(), method, params, timeoutMs);
    } finally {
      this.lastActivity = Date.now();
    }
  }

  /**
   * Ends the session: fails what is in flight, closes the channel, stops the process. Never
   * rejects (callers may `void` it): a fault on the way is logged.
   */
  close(reason: Reason, cause?: McpmuxError): Promise<void> {
    this.#closing ??= this.#close(reason, cause ?? new McpmuxError(reason)).catch((err: unknown) =>
      this.#log.error({ err, reason }, 'closing the session failed'),
    );
    return this.#closing;
  }

  async #close(reason: Reason, cause: McpmuxError): Promise<void> {
    this.#state = 'closing';
    clearTimeout(this.#idleTimer);
    clearTimeout(this.#resumeTimer);
    const sink = this.#sink;
    this.#requests.failAll(cause, sink === undefined ? undefined : (line) => sink.send(line));
    this.#sink = undefined;
    sink?.closed(reason, cause.message);
    this.#log.info({ reason }, 'session closed');
    await this.client.stop();
    this.#state = 'closed';
    this.#options.onClosed?.(this, reason);
  }

  /** Every line for the server goes here: a full stdin pauses the client's input until it drains. */
  readonly #write = (line: string): void => {
    if (this.client.sendRaw(line) || this.#stdinDrained !== undefined) return;
    const drained = this.client.drain().finally(() => (this.#stdinDrained = undefined));
    this.#stdinDrained = drained;
    this.#sink?.inputCongested?.(drained);
  };

  #onClientRequest(message: JsonRpcRequest, text: string): void {
    const { id, method } = message;
    if (method === 'initialize' && this.#initializeResult !== undefined) {
      // A client initializing a session that already is: a new client (an SDK Client resuming)
      // whose ids start again. The old client's requests are cancelled upstream, their late
      // output dropped, the server's questions to it refused; the answer comes from memory.
      this.#replaceClient();
      this.#toClient(JSON.stringify({ jsonrpc: '2.0', id, result: this.#initializeResult }));
      return;
    }
    if (this.#requests.send(message, text) && method === 'initialize') this.#initializeId = id;
  }

  #onClientNotification(message: JsonRpcNotification, text: string): void {
    if (message.method === 'notifications/initialized') {
      if (this.#initializedSent) return; // a resumed client's repeat: the server has it already
      this.#initializedSent = true;
    }
    this.#requests.notify(message, text);
  }

  #onResponse(message: JsonRpcResponse, id: JsonRpcId, line: string): void {
    if (!this.#requests.settle(id, 'error' in message, message)) return;
    if (id === this.#initializeId && this.#initializeResult === undefined) this.#rememberInit(line);
    this.#toClient(line, { kind: 'response', message });
  }

  #replaceClient(): void {
    this.#requests.abandonAll();
    for (const id of this.#serverRequests) {
      const err = new McpmuxError('session_closed', 'the client that was asked has gone');
      this.#write(errorResponse(id, err));
    }
    this.#serverRequests.clear();
  }

  #rememberInit(line: string): void {
    const parsed = JSON.parse(line) as { result?: unknown };
    if (parsed.result !== undefined) this.#initializeResult = parsed.result;
  }

  #onNotification(message: JsonRpcNotification, line: string): void {
    if (message.method === 'notifications/progress') {
      const token = (message.params as { progressToken?: unknown } | undefined)?.progressToken;
      if (!this.#requests.progress(token)) return;
    }
    this.#toClient(line, { kind: 'notification', message });
  }

  #onServerRequest(message: JsonRpcRequest, line: string): void {
    if (this.#sink === undefined) {
      const err = new McpmuxError('session_closed', 'no client is attached to this session');
      this.#write(errorResponse(message.id, err));
      return;
    }
    if (this.#sink.noClient === true) {
      // Nobody can answer (a REST call): at once, so the tool call asking is not left waiting.
      const { id, method } = message;
      if (method === 'ping') this.#write(JSON.stringify({ jsonrpc: '2.0', id, result: {} }));
      else this.#write(errorResponse(id, noClientError(method)));
      return;
    }
    if (this.#serverRequests.size < MAX_SERVER_REQUESTS && !this.#serverRequests.has(message.id)) {
      this.#serverRequests.add(message.id);
      this.#requests.serverWaiting(true);
    }
    this.#toClient(line, { kind: 'request', message });
  }

  /**
   * The resumed client's first message decides what the held output was for: an `initialize` on
   * an initialized session is a new client (#replaceClient follows), which never asked for any of
   * it: all of it is dropped, notifications included. Anything else is the old client
   * continuing: it gets all of it first, in order.
   */
  #release(first: Classified): void {
    this.#holding = false;
    const lines = this.#buffer.take();
    const newClient =
      first.kind === 'request' &&
      first.message.method === 'initialize' &&
      this.#initializeResult !== undefined;
    if (newClient) {
      this.#log.debug({ dropped: lines.length }, 'a new client resumed: held output dropped');
      return;
    }
    for (const line of lines) this.#sink?.send(line);
  }

  /** `decoded`: the server's message as its codec parsed it (SessionSink.send), when it is one. */
  #toClient(line: string, decoded?: Classified): void {
    this.lastActivity = Date.now();
    if (this.#sink !== undefined && !this.#holding) {
      this.#sink.send(line, decoded);
      return;
    }
    if (this.#state !== 'detached' && !this.#holding) return;
    const limit = this.#buffer.push(line);
    if (limit === undefined) return;
    const data: ErrorData = {
      buffered: this.#buffer.size,
      buffered_bytes: this.#buffer.bytes,
      limit,
    };
    this.#buffer.take(); // the session is over: nobody will read them
    this.#log.warn(data, 'resume buffer full: closing the detached session');
    void this.close('slow_consumer', new McpmuxError('slow_consumer', 'resume buffer full', data));
  }

  #checkIdle(): void {
    if (this.inflightCount > 0 || this.#idleWaiters.length === 0) return;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = [];
    for (const resolve of waiters) resolve();
  }

  #armIdle(): void {
    const idleMs = this.#options.idleTimeoutMs;
    if (!(idleMs > 0)) return;
    const check = () => {
      const quietFor = Date.now() - this.lastActivity;
      const busy = this.inflightCount > 0;
      if (!busy && quietFor >= idleMs) {
        void this.close(
          'idle_timeout',
          new McpmuxError('idle_timeout', `no traffic for ${idleMs} ms`),
        );
        return;
      }
      this.#idleTimer = setTimeout(check, busy ? idleMs : Math.max(idleMs - quietFor, 1));
      this.#idleTimer.unref();
    };
    this.#idleTimer = setTimeout(check, idleMs);
    this.#idleTimer.unref();
  }
}

function noClientError(method: string): McpmuxError {
  const detail = `no MCP client is behind this session (a REST call) to answer ${method}`;
  return new McpmuxError('no_client', detail, { method });
}
