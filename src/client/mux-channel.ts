// MuxChannel: one MCP conversation on a MuxClient's WebSocket, bound to one relay session.
// Requests get ids 1, 2, 3, … and a deadline; every pending request is settled when it ends.

import { timeoutOf, type ChannelInbox, type ChannelLink } from './channel-link.js';
import { ChannelTransport } from './channel-transport.js';
import { EarlyMessages } from './early-messages.js';
import { Emitter, Listenable } from './emitter.js';
import { MuxError, RpcError } from './errors.js';
import type {
  ClosedInfo,
  JsonRpcId,
  JsonRpcMessage,
  JsonRpcNotification,
  JsonRpcRequest,
  McpTransport,
  MuxChannelEvents,
  MuxChannelState,
  RequestOptions,
} from './types.js';

interface Pending {
  resolve(result: unknown): void;
  reject(error: Error): void;
}

/**
 * One MCP conversation on a {@link MuxClient}, bound to one session (one server process).
 * Created by {@link MuxClient.open} / {@link MuxClient.openChannel}.
 */
export class MuxChannel extends Listenable<MuxChannelEvents> {
  /** The channel's name on its connection. */
  readonly id: string;
  /** The service it was opened on. */
  readonly service: string;
  /** Resolves with the channel once the relay sent `opened`; rejects like {@link MuxClient.open}. */
  readonly ready: Promise<MuxChannel>;
  readonly #link: ChannelLink;
  readonly #prefix: string;
  readonly #events: Emitter<MuxChannelEvents>;
  readonly #pending = new Map<JsonRpcId, Pending>();
  #state: MuxChannelState = 'opening';
  #session: string | undefined;
  #resumed = false;
  #resumeToken: string | undefined;
  #closedInfo: ClosedInfo | undefined;
  #nextId = 1;
  #openTimer: ReturnType<typeof setTimeout> | undefined;
  #settleReady: (error?: MuxError) => void = () => undefined;
  #onClosed: () => void = () => undefined;
  readonly #closed: Promise<void>;
  #transport: ChannelTransport | undefined;
  /** A resumed session's buffered output, until a transport or listener takes it. */
  readonly #early = new EarlyMessages();
  /** A new client's initialize on a resumed channel: the old client's output is dropped until its answer. */
  #discardUntil: JsonRpcId | undefined;

  /** @internal Use {@link MuxClient.open}. */
  constructor(
    link: ChannelLink,
    id: string,
    service: string,
    openTimeoutMs: number,
    register: (inbox: ChannelInbox) => void,
  ) {
    const events = new Emitter<MuxChannelEvents>();
    super(events);
    this.#events = events;
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
      this.#sendClose();
      this.#finish(error);
    }, openTimeoutMs);
    register({
      opened: (session, resumed, token) => this.#opened(session, resumed, token),
      message: (message) => this.#message(message),
      closed: (error) => this.#finish(error),
      error: (error) => this.#error(error),
    });
  }

  /** The session's uuid (known once open), as GET /sessions lists it. It does not resume. */
  get session(): string | undefined {
    return this.#session;
  }

  /**
   * The session's secret resume token (known once open): pass it to `open(service, { resume })`
   * to resume the session after a drop. Keep it secret: whoever has it can resume the session.
   */
  get resumeToken(): string | undefined {
    return this.#resumeToken;
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

  /**
   * Sends one raw JSON-RPC message (it may be sent while the channel is opening).
   * Throws a {@link MuxError} when the channel is closed.
   */
  send(message: object): void {
    if (!this.#trySend(message)) throw this.#closedError();
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
    if (this.#early.holding) this.releaseEarly(); // a resumed session's backlog comes first
    const { signal } = options;
    const aborted = () =>
      new MuxError('cancelled', `${method} was aborted`, {
        channel: this.id,
        cause: signal?.reason,
      });
    if (signal?.aborted === true) return Promise.reject(aborted());
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
        this.#trySend({
          jsonrpc: '2.0',
          method: 'notifications/cancelled',
          params: { requestId: id, reason: error.message },
        }); // a no-op once the channel is closed
        reject(error);
      };
      const timer = setTimeout(() => {
        cancel(
          new MuxError('timeout', `${method} got no response within ${timeoutMs} ms`, {
            channel: this.id,
          }),
        );
      }, timeoutMs);
      const onAbort = () => cancel(aborted());
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
      if (!this.#sendClose()) {
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
   * resumed session the relay answers the new Client's `initialize` from the remembered result,
   * and the old client's buffered output is dropped for it (see ChannelTransport).
   * The same transport is returned on every call.
   */
  transport(): McpTransport {
    this.#transport ??= new ChannelTransport(this);
    return this.#transport;
  }

  /** Sends the `close` envelope (the relay stops the session); false when the socket is closed. */
  #sendClose(): boolean {
    return this.#link.send(JSON.stringify({ type: 'close', channel: this.id }));
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

  #opened(session: string, resumed: boolean, resumeToken: string): void {
    if (this.#state === 'closed') return;
    clearTimeout(this.#openTimer);
    this.#session = session;
    this.#resumeToken = resumeToken;
    this.#resumed = resumed;
    if (this.#state === 'opening') this.#state = 'open';
    this.#settleReady();
  }

  /** Subscribes to an event; the first message listener also gets a resumed session's backlog. */
  override on<K extends keyof MuxChannelEvents>(
    event: K,
    fn: (value: MuxChannelEvents[K]) => void,
  ): () => void {
    const off = super.on(event, fn);
    if (
      this.#early.holding &&
      (event === 'message' || event === 'request' || event === 'notification')
    ) {
      // Next microtask: listeners added together in one tick all see the backlog.
      queueMicrotask(() => this.releaseEarly());
    }
    return off;
  }

  /** @internal Hands held messages on (the transport calls it once started). */
  releaseEarly(): void {
    this.#early.release((message) => this.#dispatch(message));
  }

  /**
   * @internal A new MCP client sends initialize `id` on this channel (its transport calls it). On
   * a resumed channel whose backlog nobody took, the backlog is dropped, and so is what arrives
   * before the answer to `id`: the relay sends the old client's output up to that initialize,
   * which replaces the old client (docs/protocol.md, "Resume").
   */
  startAfresh(id: JsonRpcId): void {
    if (!this.#resumed || !this.#early.holding) {
      this.releaseEarly();
      return;
    }
    this.#early.release(() => undefined);
    this.#discardUntil = id;
  }

  #message(value: unknown): void {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) return;
    const message = value as JsonRpcMessage;
    if (this.#discardUntil !== undefined) {
      if (message.method !== undefined || message.id !== this.#discardUntil) return;
      this.#discardUntil = undefined;
    }
    if (
      this.#resumed &&
      this.#early.holding &&
      // held until taken: by the transport once started, or the first listener or request
      (this.#transport !== undefined || !this.#listened())
    ) {
      if (this.#early.hold(message)) return;
      this.#early.release((m) => this.#dispatch(m)); // past the bound: nobody took them in time
    }
    this.#dispatch(message);
  }

  #listened(): boolean {
    return (
      this.#pending.size > 0 ||
      this.#events.has('message') ||
      this.#events.has('request') ||
      this.#events.has('notification')
    );
  }

  #dispatch(message: JsonRpcMessage): void {
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
