// MuxClient: a small, dependency-free client for mcpmux's multiplexed endpoint `/ws`
// (subprotocol mcpmux.v1, see docs/protocol.md). It runs in browsers and in Node: it uses the
// WHATWG WebSocket API only (the global one, or a constructor passed in options, e.g. ws's).
// One MuxClient owns one WebSocket; each MuxChannel is one MCP conversation with its own session.
// Every wait has a deadline; every pending thing is settled when its channel or socket closes.

import type { RelayEnvelope } from '../mux/envelope.js';

/** The WebSocket subprotocol of `/ws` (the same value as the relay's MUX_SUBPROTOCOL). */
export const MCPMUX_SUBPROTOCOL = 'mcpmux.v1';

/** Default deadline of every wait (connect, open, request, close): 30 s. */
export const DEFAULT_TIMEOUT_MS = 30_000;
/** Close code that detaches the connection's sessions (kept for resume_window) instead of stopping them. */
export const DETACH_CLOSE_CODE = 4100;

const WS_OPEN = 1;
const MAX_CHANNEL_LENGTH = 128;

// ---------------------------------------------------------------------------------------------
// Types

/** A JSON-RPC id: client ids pass through the relay with their type. */
export type JsonRpcId = string | number;

/** The `error` member of a JSON-RPC error response. */
export interface JsonRpcErrorObject {
  code: number;
  message: string;
  data?: unknown;
}

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
  /** The id of a detached session to resume (within the relay's resume_window). */
  session?: string;
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

// ---------------------------------------------------------------------------------------------
// Errors

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

// ---------------------------------------------------------------------------------------------
// A tiny typed emitter

type Listener<T> = (value: T) => void;

class Emitter<M> {
  readonly #listeners = new Map<keyof M, Set<Listener<never>>>();

  on<K extends keyof M>(event: K, fn: Listener<M[K]>): () => void {
    let set = this.#listeners.get(event);
    if (set === undefined) this.#listeners.set(event, (set = new Set()));
    set.add(fn);
    return () => this.off(event, fn);
  }

  off<K extends keyof M>(event: K, fn: Listener<M[K]>): void {
    this.#listeners.get(event)?.delete(fn);
  }

  has(event: keyof M): boolean {
    return (this.#listeners.get(event)?.size ?? 0) > 0;
  }

  emit<K extends keyof M>(event: K, value: M[K]): void {
    const set = this.#listeners.get(event);
    if (set === undefined) return;
    for (const fn of [...set]) {
      try {
        (fn as Listener<M[K]>)(value);
      } catch (err) {
        queueMicrotask(() => {
          throw err; // reported like an EventTarget listener's error; dispatch goes on
        });
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// MuxClient

interface Timeouts {
  openMs: number;
  requestMs: number;
  closeMs: number;
}

/** What a channel needs from its client (internal). */
interface ChannelLink {
  readonly timeouts: Timeouts;
  send(text: string): boolean;
  forget(id: string): void;
  report(error: MuxError): void;
}

/** What the client hands a channel's envelopes to (internal). */
interface ChannelInbox {
  opened(session: string, resumed: boolean): void;
  message(message: unknown): void;
  closed(error: MuxError): void;
  error(error: MuxError): void;
}

function timeoutOf(value: number | undefined, fallback: number): number {
  return value !== undefined && Number.isFinite(value) && value >= 0 ? value : fallback;
}

/** The URL without its query (which may hold `access_token`), for error messages. */
function safeUrl(url: string): string {
  const end = url.search(/[?#]/);
  return end === -1 ? url : url.slice(0, end);
}

/**
 * One WebSocket connection to a relay's `/ws` endpoint, carrying any number of channels.
 *
 * ```ts
 * const mux = await MuxClient.connect('ws://127.0.0.1:8100/ws');
 * const todo = await mux.open('todo');
 * const tools = await todo.request('tools/list');
 * await mux.close();
 * ```
 */
export class MuxClient {
  readonly #ws: WebSocketLike;
  readonly #timeouts: Timeouts;
  readonly #channels = new Map<string, MuxChannel>();
  readonly #inboxes = new Map<string, ChannelInbox>();
  readonly #events = new Emitter<MuxClientEvents>();
  readonly #link: ChannelLink;
  #nextChannel = 1;
  #state: 'open' | 'closing' | 'closed' = 'open';
  #closing: Promise<void> | undefined;
  readonly #socketClosed: Promise<void>;
  #onSocketClosed: () => void = () => undefined;

  /**
   * Opens a WebSocket to `url` (e.g. `ws://host:8100/ws`, or `…/ws?access_token=…` in a browser)
   * offering the `mcpmux.v1` subprotocol, and resolves once it is open. Rejects with a
   * {@link MuxError}: `connect_failed`, `protocol_mismatch`, or `timeout` after `openTimeoutMs`.
   */
  static connect(url: string, options: MuxClientOptions = {}): Promise<MuxClient> {
    const Ctor =
      options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (Ctor === undefined) {
      throw new TypeError('no global WebSocket: pass one in options.WebSocket (e.g. from "ws")');
    }
    const protocols = options.protocols ?? [MCPMUX_SUBPROTOCOL];
    const timeoutMs = timeoutOf(options.openTimeoutMs, DEFAULT_TIMEOUT_MS);
    const where = safeUrl(url);
    const ws = new Ctor(url, protocols);
    return new Promise<MuxClient>((resolve, reject) => {
      let errorText = '';
      const cleanup = () => {
        clearTimeout(timer);
        ws.removeEventListener('open', onOpen);
        ws.removeEventListener('close', onClose);
      };
      const fail = (error: MuxError) => {
        cleanup();
        ws.close();
        reject(error);
      };
      const timer = setTimeout(() => {
        fail(new MuxError('timeout', `connecting to ${where} took over ${timeoutMs} ms`));
      }, timeoutMs);
      const onOpen = () => {
        if (protocols.includes(MCPMUX_SUBPROTOCOL) && ws.protocol !== MCPMUX_SUBPROTOCOL) {
          fail(
            new MuxError(
              'protocol_mismatch',
              `${where} did not accept the ${MCPMUX_SUBPROTOCOL} subprotocol`,
            ),
          );
          return;
        }
        cleanup();
        ws.removeEventListener('error', onError);
        resolve(new MuxClient(ws, options));
      };
      const onError = (event: SocketEvent) => {
        if (typeof event.message === 'string') errorText = event.message;
      };
      const onClose = (event: SocketEvent) => {
        const detail = errorText !== '' ? errorText : `close code ${event.code ?? 1006}`;
        cleanup();
        reject(new MuxError('connect_failed', `could not connect to ${where}: ${detail}`));
      };
      ws.addEventListener('open', onOpen);
      ws.addEventListener('error', onError);
      ws.addEventListener('close', onClose);
    });
  }

  private constructor(ws: WebSocketLike, options: MuxClientOptions) {
    this.#ws = ws;
    this.#timeouts = {
      openMs: timeoutOf(options.openTimeoutMs, DEFAULT_TIMEOUT_MS),
      requestMs: timeoutOf(options.requestTimeoutMs, DEFAULT_TIMEOUT_MS),
      closeMs: timeoutOf(options.closeTimeoutMs, DEFAULT_TIMEOUT_MS),
    };
    this.#socketClosed = new Promise((resolve) => (this.#onSocketClosed = resolve));
    this.#link = {
      timeouts: this.#timeouts,
      send: (text) => {
        if (this.#ws.readyState !== WS_OPEN) return false;
        this.#ws.send(text);
        return true;
      },
      forget: (id) => {
        this.#channels.delete(id);
        this.#inboxes.delete(id);
      },
      report: (error) => this.#events.emit('error', error),
    };
    ws.addEventListener('message', (event) => this.#onFrame(event.data));
    ws.addEventListener('error', (event) => {
      const text = typeof event.message === 'string' ? event.message : 'WebSocket error';
      this.#events.emit('error', new MuxError('connection_error', text));
    });
    ws.addEventListener('close', (event) => this.#onClose(event.code ?? 1006, event.reason ?? ''));
  }

  /** The negotiated subprotocol (`mcpmux.v1`). */
  get protocol(): string {
    return this.#ws.protocol;
  }

  /** `open` until {@link close} is called or the socket closes. */
  get state(): 'open' | 'closing' | 'closed' {
    return this.#state;
  }

  /** The channels that are opening or open, by name. */
  get channels(): ReadonlyMap<string, MuxChannel> {
    return this.#channels;
  }

  /** Subscribes to a connection event; returns the unsubscribe function. */
  on<K extends keyof MuxClientEvents>(
    event: K,
    fn: (value: MuxClientEvents[K]) => void,
  ): () => void {
    return this.#events.on(event, fn);
  }

  off<K extends keyof MuxClientEvents>(event: K, fn: (value: MuxClientEvents[K]) => void): void {
    this.#events.off(event, fn);
  }

  /**
   * Opens a channel on `service` and resolves when the relay confirms it (`opened`). Rejects with
   * a {@link MuxError} whose `reason` is the relay's (`unknown_service`, `session_limit`,
   * `unknown_session`, `channel_limit`, …), `timeout`, or `connection_closed`.
   * Throws at once on a bad or duplicate channel name.
   */
  open(service: string, options: OpenOptions = {}): Promise<MuxChannel> {
    return this.openChannel(service, options).ready;
  }

  /**
   * Like {@link open}, but returns the channel at once: messages sent on it before it is open are
   * held by the relay and delivered in order. `channel.ready` settles like {@link open}.
   */
  openChannel(service: string, options: OpenOptions = {}): MuxChannel {
    const id = options.channel ?? this.#freeName();
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_CHANNEL_LENGTH) {
      throw new RangeError(`a channel name has 1-${MAX_CHANNEL_LENGTH} characters`);
    }
    if (this.#channels.has(id)) throw new Error(`channel ${id} is already in use`);
    let inbox: ChannelInbox | undefined;
    const timeoutMs = timeoutOf(options.timeoutMs, this.#timeouts.openMs);
    const channel = new MuxChannel(this.#link, id, service, timeoutMs, (i) => (inbox = i));
    this.#channels.set(id, channel);
    this.#inboxes.set(id, inbox!);
    const open: Record<string, string> = { type: 'open', channel: id, service };
    if (options.session !== undefined) open.session = options.session;
    if (this.#state !== 'open' || !this.#link.send(JSON.stringify(open))) {
      inbox!.closed(new MuxError('connection_closed', 'the connection is closed', { channel: id }));
    }
    return channel;
  }

  /**
   * Closes every channel (stopping its session), then the WebSocket; resolves when done or after
   * `closeTimeoutMs`. With `keepSessions: true` only the socket is closed: the relay keeps the
   * sessions for its resume_window, to be resumed with `open(service, { session })`.
   * Idempotent.
   */
  close(options: { keepSessions?: boolean } = {}): Promise<void> {
    this.#closing ??= this.#close(options.keepSessions === true);
    return this.#closing;
  }

  async #close(keepSessions: boolean): Promise<void> {
    if (this.#state === 'open') this.#state = 'closing';
    if (!keepSessions) await Promise.all([...this.#channels.values()].map((c) => c.close()));
    if (this.#state === 'closed') return;
    // 4100 tells the relay to keep the sessions for a resume; 1000 stops them.
    this.#ws.close(keepSessions ? DETACH_CLOSE_CODE : 1000);
    let timer: ReturnType<typeof setTimeout> | undefined;
    const expired = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, this.#timeouts.closeMs);
    });
    try {
      await Promise.race([this.#socketClosed, expired]);
    } finally {
      clearTimeout(timer);
    }
    this.#onClose(1006, 'the close handshake timed out'); // no-op when the socket closed
  }

  #freeName(): string {
    let name = `c${this.#nextChannel++}`;
    while (this.#channels.has(name)) name = `c${this.#nextChannel++}`;
    return name;
  }

  #onFrame(data: unknown): void {
    if (typeof data !== 'string') return; // the relay sends text frames only
    let env: RelayEnvelope;
    try {
      env = JSON.parse(data) as RelayEnvelope;
    } catch {
      this.#events.emit('error', new MuxError('bad_envelope', 'the relay sent a non-JSON frame'));
      return;
    }
    if (typeof env !== 'object' || env === null) return;
    const inbox = typeof env.channel === 'string' ? this.#inboxes.get(env.channel) : undefined;
    switch (env.type) {
      case 'message':
        inbox?.message(env.message);
        return;
      case 'opened':
        inbox?.opened(env.session, env.resumed);
        return;
      case 'closed':
        inbox?.closed(new MuxError(env.reason, env.message, { channel: env.channel }));
        return;
      case 'error': {
        const error = new MuxError(env.reason, env.message, {
          channel: env.channel,
          data: env.data,
        });
        if (inbox === undefined) this.#events.emit('error', error);
        else inbox.error(error);
        return;
      }
      default:
        return; // unknown envelope types are ignored
    }
  }

  #onClose(code: number, reason: string): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    const message = `connection closed (code ${code}${reason === '' ? '' : `: ${reason}`})`;
    for (const [id, inbox] of [...this.#inboxes]) {
      inbox.closed(new MuxError('connection_closed', message, { channel: id }));
    }
    this.#channels.clear();
    this.#inboxes.clear();
    this.#onSocketClosed();
    this.#events.emit('close', { code, reason });
  }
}

// ---------------------------------------------------------------------------------------------
// MuxChannel

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/** State of a channel: `opening` until `opened`, `closing` after {@link MuxChannel.close}. */
export type MuxChannelState = 'opening' | 'open' | 'closing' | 'closed';

/**
 * One MCP conversation on a {@link MuxClient}, bound to one session (one server process).
 * Created by {@link MuxClient.open} / {@link MuxClient.openChannel}.
 */
export class MuxChannel {
  /** The channel's name on its connection. */
  readonly id: string;
  /** The service it was opened on. */
  readonly service: string;
  /** Resolves with the channel once the relay sent `opened`; rejects like {@link MuxClient.open}. */
  readonly ready: Promise<MuxChannel>;
  readonly #link: ChannelLink;
  readonly #prefix: string;
  readonly #events = new Emitter<MuxChannelEvents>();
  readonly #pending = new Map<JsonRpcId, Pending>();
  #state: MuxChannelState = 'opening';
  #session: string | undefined;
  #resumed = false;
  #closedInfo: ClosedInfo | undefined;
  #nextId = 1;
  #openTimer: ReturnType<typeof setTimeout> | undefined;
  #settleReady: (error?: MuxError) => void = () => undefined;
  #onClosed: () => void = () => undefined;
  readonly #closed: Promise<void>;
  #transport: ChannelTransport | undefined;

  /** @internal Use {@link MuxClient.open}. */
  constructor(
    link: ChannelLink,
    id: string,
    service: string,
    openTimeoutMs: number,
    register: (inbox: ChannelInbox) => void,
  ) {
    this.#link = link;
    this.id = id;
    this.service = service;
    this.#prefix = `{"type":"message","channel":${JSON.stringify(id)},"message":`;
    this.ready = new Promise<MuxChannel>((resolve, reject) => {
      this.#settleReady = (error) => (error === undefined ? resolve(this) : reject(error));
    });
    this.ready.catch(() => undefined); // a rejection nobody awaits is not unhandled
    this.#closed = new Promise((resolve) => (this.#onClosed = resolve));
    this.#openTimer = setTimeout(() => {
      const error = new MuxError('timeout', `opening ${service} took over ${openTimeoutMs} ms`, {
        channel: id,
      });
      link.send(JSON.stringify({ type: 'close', channel: id }));
      this.#finish(error);
    }, openTimeoutMs);
    register({
      opened: (session, resumed) => this.#opened(session, resumed),
      message: (message) => this.#message(message),
      closed: (error) => this.#finish(error),
      error: (error) => this.#error(error),
    });
  }

  /** The session's uuid (known once open): pass it to `open(service, { session })` to resume. */
  get session(): string | undefined {
    return this.#session;
  }

  /** True when the channel re-attached an existing session. */
  get resumed(): boolean {
    return this.#resumed;
  }

  get state(): MuxChannelState {
    return this.#state;
  }

  /** Why the channel ended, once it has. */
  get closedInfo(): ClosedInfo | undefined {
    return this.#closedInfo;
  }

  /** Subscribes to a channel event; returns the unsubscribe function. */
  on<K extends keyof MuxChannelEvents>(
    event: K,
    fn: (value: MuxChannelEvents[K]) => void,
  ): () => void {
    return this.#events.on(event, fn);
  }

  off<K extends keyof MuxChannelEvents>(event: K, fn: (value: MuxChannelEvents[K]) => void): void {
    this.#events.off(event, fn);
  }

  /**
   * Sends one raw JSON-RPC message (it may be sent while the channel is opening).
   * Throws a {@link MuxError} when the channel is closed.
   */
  send(message: object): void {
    if (
      this.#state === 'closed' ||
      !this.#link.send(this.#prefix + JSON.stringify(message) + '}')
    ) {
      throw this.#closedError();
    }
  }

  /**
   * Sends a request and resolves with its `result`. Rejects with an {@link RpcError} (`code`,
   * `data`, `reason`) on an error response, or a {@link MuxError}: `timeout` after `timeoutMs`
   * and `cancelled` on abort (both also send `notifications/cancelled` to the server), or the
   * channel's close reason. Ids are 1, 2, 3, … per channel.
   */
  request<R = unknown>(method: string, params?: object, options: RequestOptions = {}): Promise<R> {
    if (this.#transport !== undefined) {
      throw new Error('this channel is driven by an MCP transport; send requests through it');
    }
    if (this.#state === 'closed') return Promise.reject(this.#closedError());
    const { signal } = options;
    if (signal?.aborted === true) {
      return Promise.reject(
        new MuxError('cancelled', `${method} was aborted`, {
          channel: this.id,
          cause: signal.reason,
        }),
      );
    }
    const id = this.#nextId++;
    const timeoutMs = timeoutOf(options.timeoutMs, this.#link.timeouts.requestMs);
    return new Promise<R>((resolve, reject) => {
      const cleanup = () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
      };
      const cancel = (error: MuxError) => {
        if (!this.#pending.delete(id)) return;
        cleanup();
        if (this.#state !== 'closed') {
          this.#trySend({
            jsonrpc: '2.0',
            method: 'notifications/cancelled',
            params: { requestId: id, reason: error.message },
          });
        }
        reject(error);
      };
      const timer = setTimeout(() => {
        cancel(
          new MuxError('timeout', `${method} got no response within ${timeoutMs} ms`, {
            channel: this.id,
          }),
        );
      }, timeoutMs);
      const onAbort = () => {
        cancel(
          new MuxError('cancelled', `${method} was aborted`, {
            channel: this.id,
            cause: signal?.reason,
          }),
        );
      };
      signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, {
        resolve: (result) => {
          cleanup();
          resolve(result as R);
        },
        reject: (error) => {
          cleanup();
          reject(error);
        },
      });
      const message = params === undefined ? { method } : { method, params };
      if (!this.#trySend({ jsonrpc: '2.0', id, ...message })) {
        this.#pending.delete(id);
        cleanup();
        reject(this.#closedError());
      }
    });
  }

  /** Sends a notification. Throws a {@link MuxError} when the channel is closed. */
  notify(method: string, params?: object): void {
    this.send(
      params === undefined ? { jsonrpc: '2.0', method } : { jsonrpc: '2.0', method, params },
    );
  }

  /** Answers a server request with a result. */
  respond(id: JsonRpcId, result: unknown): void {
    this.send({ jsonrpc: '2.0', id, result });
  }

  /** Answers a server request with an error. */
  respondError(id: JsonRpcId, code: number, message: string, data?: unknown): void {
    const error = data === undefined ? { code, message } : { code, message, data };
    this.send({ jsonrpc: '2.0', id, error });
  }

  /**
   * Sends the `close` envelope (the relay stops the session) and resolves once the relay
   * confirms with `closed`, or after the client's `closeTimeoutMs`. Idempotent.
   */
  close(): Promise<void> {
    if (this.#state === 'opening' || this.#state === 'open') {
      this.#state = 'closing';
      if (!this.#link.send(JSON.stringify({ type: 'close', channel: this.id }))) {
        this.#finish(
          new MuxError('connection_closed', 'the connection is closed', { channel: this.id }),
        );
      } else {
        const timer = setTimeout(() => {
          this.#finish(new MuxError('timeout', 'the relay did not confirm the close'));
        }, this.#link.timeouts.closeMs);
        void this.#closed.then(() => clearTimeout(timer));
      }
    }
    return this.#closed;
  }

  /**
   * An MCP SDK `Transport` over this channel, for `await new Client(info).connect(transport)`.
   * From then on every message from the server goes to `transport.onmessage` (and no channel
   * events but `closed` and `error` fire). `start()` resolves when the channel is open.
   * `sessionId` is the session's uuid once the first message went out (it stays unset until then
   * because the SDK's Client skips `initialize` on a transport that already has one). On a
   * resumed session the relay answers the new Client's `initialize` from the remembered result.
   * The same transport is returned on every call.
   */
  transport(): McpTransport {
    this.#transport ??= new ChannelTransport(this);
    return this.#transport;
  }

  #trySend(message: object): boolean {
    return (
      this.#state !== 'closed' && this.#link.send(this.#prefix + JSON.stringify(message) + '}')
    );
  }

  #closedError(): MuxError {
    const info = this.#closedInfo;
    return new MuxError(
      info?.reason ?? 'connection_closed',
      info?.message ?? `channel ${this.id} is closed`,
      { channel: this.id },
    );
  }

  #opened(session: string, resumed: boolean): void {
    if (this.#state === 'closed') return;
    clearTimeout(this.#openTimer);
    this.#session = session;
    this.#resumed = resumed;
    if (this.#state === 'opening') this.#state = 'open';
    this.#settleReady();
  }

  #message(value: unknown): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    const message = value as JsonRpcMessage;
    if (this.#transport !== undefined) {
      this.#transport.onmessage?.(message);
      return;
    }
    const isResponse = message.method === undefined;
    if (isResponse && message.id !== undefined) {
      const pending = this.#pending.get(message.id);
      if (pending !== undefined) {
        this.#pending.delete(message.id);
        if (message.error !== undefined) pending.reject(new RpcError(message.error));
        else pending.resolve(message.result);
        return;
      }
    }
    this.#events.emit('message', message);
    if (isResponse) return;
    if (message.id === undefined) {
      this.#events.emit('notification', message as JsonRpcNotification);
    } else if (this.#events.has('request')) {
      this.#events.emit('request', message as JsonRpcRequest);
    } else if (!this.#events.has('message')) {
      // Nobody will answer: do it now rather than leave the server waiting.
      if (message.method === 'ping') this.respond(message.id, {});
      else this.respondError(message.id, -32601, `Method not found: ${message.method ?? ''}`);
    }
  }

  #error(error: MuxError): void {
    if (this.#state === 'opening' || this.#state === 'closing') {
      this.#finish(error);
      return;
    }
    this.#transport?.onerror?.(error);
    if (this.#events.has('error')) this.#events.emit('error', error);
    else this.#link.report(error);
  }

  /** The one way a channel ends: relay `closed`/`error`, deadline, or the socket closing. */
  #finish(error: MuxError): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    clearTimeout(this.#openTimer);
    this.#closedInfo = { reason: error.reason, message: error.message };
    this.#link.forget(this.id);
    this.#settleReady(error);
    const pending = [...this.#pending.values()];
    this.#pending.clear();
    for (const p of pending) p.reject(error);
    this.#onClosed();
    this.#events.emit('closed', this.#closedInfo);
    this.#transport?.onclose?.();
  }
}

/** The MCP SDK Transport of one channel. */
class ChannelTransport implements McpTransport {
  onclose?: (() => void) | undefined;
  onerror?: ((error: Error) => void) | undefined;
  onmessage?: ((message: JsonRpcMessage, extra?: unknown) => void) | undefined;
  sessionId?: string | undefined;
  readonly #channel: MuxChannel;
  #started = false;

  constructor(channel: MuxChannel) {
    this.#channel = channel;
  }

  async start(): Promise<void> {
    if (this.#started) throw new Error('the transport is already started');
    this.#started = true;
    await this.#channel.ready;
  }

  send(message: JsonRpcMessage): Promise<void> {
    try {
      this.#channel.send(message);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    // Set only now: the SDK's Client skips `initialize` on a transport that has a sessionId at
    // connect(), and a new Client needs the (remembered, on a resumed session) initialize result.
    this.sessionId ??= this.#channel.session;
    return Promise.resolve();
  }

  close(): Promise<void> {
    return this.#channel.close();
  }
}
