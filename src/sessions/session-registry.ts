// Every live session of the relay, by id, with one request queue per service. WebSocket channels
// and REST calls create and find sessions here; a session leaves when its process is gone.

import type { Config } from '../config/types.js';
import { McpmuxError, type Reason } from '../errors.js';
import type { Logger } from '../log.js';
import type { MCPManager } from './mcp-manager.js';
import { RequestQueue } from './request-queue.js';
import { ResumeTokens } from './resume-tokens.js';
import { Session, type RequestObserver, type SessionTransport } from './session.js';

export interface CreateSessionOptions {
  /** Have the relay send initialize + notifications/initialized itself (REST sessions). */
  initialize?: boolean;
  /** Idle timeout for this session instead of the service's (REST `timeout`), in ms. */
  idleTimeoutMs?: number;
  /** How the session is opened (GET /sessions lists it); `websocket` when not given. */
  transport?: SessionTransport;
}

export interface SessionRegistryOptions {
  /** The request observer (metrics) of a service's sessions. */
  observer?: (service: string) => RequestObserver;
}

export class SessionRegistry {
  readonly #manager: MCPManager;
  readonly #config: Config;
  readonly #log: Logger;
  readonly #sessions = new Map<string, Session>();
  readonly #queues = new Map<string, RequestQueue>();
  readonly #observer: SessionRegistryOptions['observer'];
  readonly #tokens: ResumeTokens<Session>;
  #accepting = true;

  constructor(
    manager: MCPManager,
    config: Config,
    logger: Logger,
    options: SessionRegistryOptions = {},
  ) {
    this.#manager = manager;
    this.#config = config;
    this.#log = logger;
    this.#observer = options.observer;
    this.#tokens = new ResumeTokens(config.server.node_id);
  }

  get size(): number {
    return this.#sessions.size;
  }

  get(id: string): Session | undefined {
    return this.#sessions.get(id);
  }

  all(): Session[] {
    return [...this.#sessions.values()];
  }

  /** The service's queue (made on first use). */
  queue(service: string): RequestQueue {
    let queue = this.#queues.get(service);
    if (queue === undefined) {
      const s = this.#manager.getService(service);
      queue = new RequestQueue(service, { concurrency: s.concurrency, queueLimit: s.queueLimit });
      this.#queues.set(service, queue);
    }
    return queue;
  }

  queues(): ReadonlyMap<string, RequestQueue> {
    return this.#queues;
  }

  /** Spawns a process for `service` and wraps it in a (detached) session. */
  async create(service: string, options: CreateSessionOptions = {}): Promise<Session> {
    const queue = this.queue(service);
    this.#checkAccepting();
    const client = await this.#manager.createClient(service, {
      ...(options.initialize === true && { initialize: true }),
    });
    if (!this.#accepting) {
      await client.stop(); // the shutdown began while it started: closeAll would miss it
      this.#checkAccepting();
    }
    const svc = client.service;
    const session = new Session(client, queue, {
      idleTimeoutMs: options.idleTimeoutMs ?? svc.idleTimeoutMs,
      resumeWindowMs: this.#config.session.resume_window * 1000,
      resumeBufferMessages: this.#config.session.resume_buffer_messages,
      resumeBufferBytes: this.#config.session.max_resume_buffer_bytes,
      logger: this.#log.child({ service, session: client.sessionId }),
      onClosed: (s) => {
        this.#sessions.delete(s.id);
        this.#tokens.forget(s);
      },
      observer: this.#observer?.(service),
      transport: options.transport,
    });
    this.#sessions.set(session.id, session);
    this.#tokens.issue(session);
    this.#log.info({ service, session: session.id, pid: client.pid }, 'session opened');
    return session;
  }

  /** The secret resume token of `session`, for its opener only (never list or log it). */
  resumeToken(session: Session): string {
    return this.#tokens.tokenOf(session) ?? '';
  }

  /**
   * The detached session whose resume token is `token`, or why not. A session id does not resume;
   * errors never repeat the token.
   */
  resumable(token: string, service?: string): Session {
    const session = this.#tokens.find(token);
    if (session === undefined || (service !== undefined && session.serviceName !== service)) {
      throw new McpmuxError('unknown_session', 'no session to resume with that resume token');
    }
    const id = session.id;
    if (session.state === 'attached') {
      throw new McpmuxError('session_in_use', `session ${id} is attached to another channel`);
    }
    if (session.state !== 'detached') {
      throw new McpmuxError('unknown_session', `session ${id} is closing`, { session: id });
    }
    return session;
  }

  /**
   * The session whose resume token is `token`, whatever its state (Streamable HTTP uses the token
   * as its secret Mcp-Session-Id), or undefined. Errors built from this never repeat the token.
   */
  byToken(token: string): Session | undefined {
    return this.#tokens.find(token);
  }

  /** The relay is shutting down: from now on create() refuses with shutting_down. */
  stopAccepting(): void {
    this.#accepting = false;
  }

  /**
   * Resolves when no session has a request in flight, or after `ms`: the relay's shutdown grace.
   * Sessions created meanwhile are not waited for (stopAccepting comes first).
   */
  async drained(ms: number): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, ms)));
    try {
      await Promise.race([Promise.all(this.all().map((s) => s.whenIdle())), deadline]);
    } finally {
      clearTimeout(timer);
    }
  }

  /**
   * Closes every session (relay shutdown). Each session answers its requests in flight with
   * `reason` and closes its channel synchronously, before this returns; the promise resolves when
   * every process is stopped.
   */
  closeAll(reason: Reason): Promise<void> {
    return Promise.all(this.all().map((s) => s.close(reason))).then(() => undefined);
  }

  #checkAccepting(): void {
    if (!this.#accepting) throw new McpmuxError('shutting_down', 'the relay is shutting down');
  }
}
