// A channel: one MCP conversation on a connection, bound to one session. It validates the
// client's frames (answering bad ones itself), holds messages while the session is opening, and
// hands the session's output to its transport (a direct socket, or envelopes on a /ws socket).

import { McpmuxError, errorResponse, type Reason } from '../errors.js';
import type { Classified, Invalid } from '../jsonrpc/types.js';
import type { ResumeReplay } from './envelope.js';
import type { Session, SessionSink } from '../sessions/session.js';
import type { SessionRegistry } from '../sessions/session-registry.js';
import { openSession } from '../sessions/session-opener.js';

/** Messages a channel holds while its session is being opened. */
const MAX_HELD_MESSAGES = 1024;
/** Their bytes, unless the transport sets its own bound (maxHeldBytes). */
const DEFAULT_MAX_HELD_BYTES = 8 * 1024 * 1024;

export interface ChannelTransport {
  /** One JSON-RPC line for the client. */
  send(line: string): void;
  /** The session is ready, before any of its messages are sent. */
  opened(session: Session, resumed: boolean): void;
  /** The channel's session ended. */
  closed(reason: Reason, message: string): void;
  /** Stop reading the client's socket until `drained` resolves (the server's stdin is full). */
  pauseInput?(drained: Promise<void>): void;
  /**
   * Bytes held while the session opens (one message is always held, whatever its size); past it
   * a request is answered queue_full and a notification dropped. Default 8 MiB.
   */
  maxHeldBytes?: number;
}

export type ChannelState = 'opening' | 'open' | 'closed';

export class Channel implements SessionSink {
  readonly service: string;
  readonly #registry: SessionRegistry;
  readonly #transport: ChannelTransport;
  #session: Session | undefined;
  #state: ChannelState = 'opening';
  #held: [Classified, string][] = [];
  #heldBytes = 0;
  readonly #maxHeldBytes: number;
  #detachWhenOpen = false;
  #closeWhenOpen: Reason | undefined;

  constructor(registry: SessionRegistry, service: string, transport: ChannelTransport) {
    this.#registry = registry;
    this.#maxHeldBytes = transport.maxHeldBytes ?? DEFAULT_MAX_HELD_BYTES;
    this.service = service;
    this.#transport = transport;
  }

  get state(): ChannelState {
    return this.#state;
  }

  get session(): Session | undefined {
    return this.#session;
  }

  /**
   * Creates a session, or re-attaches the detached one whose resume token is `resumeToken`
   * (`replay`: when its buffered output is delivered, see bind).
   */
  async open(resumeToken?: string, replay?: ResumeReplay): Promise<Session> {
    const opened = await openSession(this.#registry, this.service, resumeToken);
    if (!opened.ok) {
      this.#state = 'closed';
      this.#held = [];
      throw opened.error;
    }
    this.bind(opened.session, opened.resumed, replay);
    return opened.session;
  }

  /**
   * Binds an already created (or resumable) session and delivers what was held meanwhile. A
   * resumed session's buffered output goes out at once with `replay` 'now'; by default ('hold')
   * it waits for the client's first message (docs/protocol.md, "Resume").
   */
  bind(session: Session, resumed: boolean, replay: ResumeReplay = 'hold'): void {
    if (session.state !== 'detached') {
      throw new McpmuxError(session.state === 'attached' ? 'session_in_use' : 'unknown_session');
    }
    this.#session = session;
    this.#state = 'open';
    this.#transport.opened(session, resumed);
    session.attach(this, resumed && replay === 'hold');
    const held = this.#held;
    this.#held = [];
    this.#heldBytes = 0;
    for (const [decoded, text] of held) session.handle(decoded, text);
    if (this.#closeWhenOpen !== undefined) void session.close(this.#closeWhenOpen);
    else if (this.#detachWhenOpen) session.detach();
  }

  /**
   * One client message, decoded by the endpoint (see decodeFrame/decodeValue: the endpoint asks
   * the access layer about a request before handing it here), and its raw text, one line, which
   * is what the server gets: the client's bytes, not a re-serialisation.
   */
  receive(decoded: Classified | Invalid, text: string): void {
    this.#deliver(decoded, decoded.kind === 'invalid' ? '' : text);
  }

  /** The connection dropped: the session waits for a resume. */
  detach(): void {
    if (this.#state === 'opening') this.#detachWhenOpen = true;
    else if (this.#state === 'open') this.#session?.detach();
  }

  /** The client closed the channel: its session stops. */
  async close(reason: Reason = 'session_closed'): Promise<void> {
    if (this.#state === 'opening') this.#closeWhenOpen = reason;
    else await this.#session?.close(reason);
  }

  // SessionSink
  send(line: string): void {
    this.#transport.send(line);
  }

  inputCongested(drained: Promise<void>): void {
    this.#transport.pauseInput?.(drained);
  }

  closed(reason: Reason, message: string): void {
    if (this.#state === 'closed') return;
    this.#state = 'closed';
    this.#transport.closed(reason, message);
  }

  #deliver(decoded: Classified | Invalid, text: string): void {
    if (decoded.kind === 'invalid') {
      const err = new McpmuxError(decoded.reason, decoded.detail);
      this.#transport.send(errorResponse(decoded.id, err));
      return;
    }
    if (this.#state === 'open') {
      this.#session!.handle(decoded, text);
    } else if (this.#state === 'opening' && this.#mayHold(text)) {
      this.#held.push([decoded, text]);
      this.#heldBytes += Buffer.byteLength(text);
    } else if (decoded.kind === 'request') {
      const reason = this.#state === 'closed' ? 'session_closed' : 'queue_full';
      this.#transport.send(errorResponse(decoded.message.id, new McpmuxError(reason)));
    }
  }

  #mayHold(text: string): boolean {
    if (this.#held.length === 0) return true;
    if (this.#held.length >= MAX_HELD_MESSAGES) return false;
    return this.#heldBytes + Buffer.byteLength(text) <= this.#maxHeldBytes;
  }
}
