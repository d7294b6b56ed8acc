// MuxClient: a small, dependency-free client for mcpmux's multiplexed endpoint `/ws`
// (subprotocol mcpmux.v1, see docs/protocol.md). It runs in browsers and in Node: it uses the
// WHATWG WebSocket API only (the global one, or a constructor passed in options, e.g. ws's).
// One MuxClient owns one WebSocket; each MuxChannel is one MCP conversation with its own session.
// Every wait has a deadline; every pending thing is settled when its channel or socket closes.
//
// This module is the `mcpmux/client` entry point: it re-exports the whole public API, which
// lives in mux-channel.ts, errors.ts and types.ts.

import type { RelayEnvelope } from '../channel/envelope.js';
import { timeoutOf, type ChannelInbox, type ChannelLink, type Timeouts } from './channel-link.js';
import { Emitter, Listenable } from './emitter.js';
import { MuxError } from './errors.js';
import { MuxChannel } from './mux-channel.js';
import {
  DEFAULT_TIMEOUT_MS,
  DETACH_CLOSE_CODE,
  MCPMUX_SUBPROTOCOL,
  type MuxClientEvents,
  type MuxClientOptions,
  type OpenOptions,
  type SocketEvent,
  type WebSocketConstructor,
  type WebSocketLike,
} from './types.js';

export { MuxChannel } from './mux-channel.js';
export { MuxError, RpcError } from './errors.js';
export * from './types.js';

const WS_OPEN = 1;
const MAX_CHANNEL_LENGTH = 128;

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
export class MuxClient extends Listenable<MuxClientEvents> {
  readonly #ws: WebSocketLike;
  readonly #timeouts: Timeouts;
  readonly #channels = new Map<string, MuxChannel>();
  readonly #inboxes = new Map<string, ChannelInbox>();
  readonly #events: Emitter<MuxClientEvents>;
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
    const events = new Emitter<MuxClientEvents>();
    super(events);
    this.#events = events;
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
    // The backlog comes at once (the client continuing); a transport decides its fate itself.
    if (options.resume !== undefined)
      Object.assign(open, { resume: options.resume, replay: 'now' });
    if (this.#state !== 'open' || !this.#link.send(JSON.stringify(open))) {
      inbox!.closed(new MuxError('connection_closed', 'the connection is closed', { channel: id }));
    }
    return channel;
  }

  /**
   * Closes every channel (stopping its session), then the WebSocket; resolves when done or after
   * `closeTimeoutMs`. With `keepSessions: true` only the socket is closed: the relay keeps the
   * sessions for its resume_window, to be resumed with `open(service, { resume })`.
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
        inbox?.opened(env.session, env.resumed, env.resume_token);
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
