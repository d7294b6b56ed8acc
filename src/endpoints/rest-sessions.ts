// REST sessions (docs/operations.md, "REST sessions"): a caller's `session_id` names one session per service, so one id can
// use several services. They live in the relay's one SessionRegistry beside the WebSocket ones;
// this is the map from (session_id, service) to them. The first call for a pair creates the
// session (the relay initializes it) and concurrent first calls share that one creation.
//
// A REST session is attached to a sink of its own: server notifications are dropped (nobody is
// listening), server requests answered at once by the session (`noClient`: ping → {}, anything
// else no_client), so neither can pile up, and no WebSocket can resume the session. A call runs
// through Session.request, the same request lifecycle as a WebSocket client's. When a session ends without a DELETE
// (idle timeout, the process died), its pair keeps a tombstone: with rest.ended_sessions
// "restart" (the default, as SignalWire's gateway) the next call gets a fresh session and is told
// (`previous` → session_restarted in the answer); with "report" it is refused once with the reason.
// A DELETE leaves no tombstone: a later call with that id simply starts a new session.

import { McpmuxError, type Reason } from '../errors.js';
import type { Session, SessionSink } from '../sessions/session.js';
import type { SessionRegistry } from '../sessions/session-registry.js';
import type { SecurityLog } from '../http/security-log.js';

/** A REST session_id: what SignalWire's gateway accepts, plus ':' (and up to 128 chars). */
export const SESSION_ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;

const MAX_TOMBSTONES = 1000;
const TOMBSTONE_TTL_MS = 3_600_000;

export interface OpenOptions {
  timeoutMs: number;
  metadata: Record<string, unknown>;
  ip: string;
}

export type EndedSessions = 'restart' | 'report';

/** How a pair's previous session ended (kept for the next call). */
export interface Tombstone {
  reason: Reason;
  message: string;
  /** Wall-clock ms. */
  at: number;
}

/** What a call gets: its session and, when it replaced one that ended on its own, how that ended. */
export interface Opened {
  session: Session;
  previous?: Tombstone;
}

/** What a call served by a fresh session adds to its answer (rest.ended_sessions "restart"). */
export function restartFields(previous: Tombstone): Record<string, unknown> {
  return {
    session_restarted: true,
    previous_end_reason: previous.reason,
    previous_end_message: previous.message,
    previous_ended_at: new Date(previous.at).toISOString(),
  };
}

/** One (session_id, service) pair. */
export class RestSession {
  readonly key: string;
  readonly service: string;
  /** Wall-clock ms. */
  readonly createdAt = Date.now();
  readonly timeoutMs: number;
  readonly metadata: Record<string, unknown>;
  /** Set once the process is up and initialized. */
  session: Session | undefined;
  /** The creation every caller of this pair awaits. */
  readonly ready: Promise<Session>;
  /** The session this one replaces ended on its own (restart mode). */
  readonly previous: Tombstone | undefined;
  /** `{session}` for calls after the start (made once). */
  steady: Promise<Opened> | undefined;
  deleted = false;

  constructor(
    key: string,
    service: string,
    options: OpenOptions,
    previous: Tombstone | undefined,
    create: (entry: RestSession) => Promise<Session>,
  ) {
    this.key = key;
    this.service = service;
    this.previous = previous;
    this.timeoutMs = options.timeoutMs;
    this.metadata = options.metadata;
    this.ready = create(this);
  }
}

export class RestSessions {
  readonly #registry: SessionRegistry;
  readonly #security: SecurityLog;
  /** session_id → service → session. */
  readonly #byKey = new Map<string, Map<string, RestSession>>();
  readonly #owned = new WeakSet<Session>();
  /** `service session_id` → how the session ended. */
  readonly #tombstones = new Map<string, Tombstone>();
  readonly #ended: EndedSessions;

  constructor(registry: SessionRegistry, security: SecurityLog, ended: EndedSessions = 'restart') {
    this.#registry = registry;
    this.#security = security;
    this.#ended = ended;
  }

  /** True when `session` belongs to a REST session_id (not to a WebSocket channel). */
  owns(session: Session): boolean {
    return this.#owned.has(session);
  }

  /** Every REST session, grouped by session_id, services in creation order. */
  entries(): ReadonlyMap<string, ReadonlyMap<string, RestSession>> {
    return this.#byKey;
  }

  /**
   * The session of (key, service), created on first use. Concurrent callers share one creation
   * (and its `previous`); `options` count only for the call that creates it.
   */
  open(key: string, service: string, options: OpenOptions): Promise<Opened> {
    const existing = this.#byKey.get(key)?.get(service);
    if (existing !== undefined) {
      if (existing.session !== undefined) {
        existing.steady ??= Promise.resolve({ session: existing.session });
        return existing.steady;
      }
      const { previous } = existing;
      return existing.ready.then((session) =>
        previous === undefined ? { session } : { session, previous },
      );
    }
    const tomb = this.#takeTombstone(key, service);
    if (tomb !== undefined && this.#ended === 'report') {
      return Promise.reject(
        new McpmuxError(
          tomb.reason,
          `session ${key} of ${service} ended (${tomb.message}); the next call with this session_id starts a new one`,
          { session: key, service },
        ),
      );
    }
    const entry = new RestSession(key, service, options, tomb, (e) => this.#create(e, options.ip));
    let services = this.#byKey.get(key);
    if (services === undefined) {
      services = new Map();
      this.#byKey.set(key, services);
    }
    services.set(service, entry);
    return entry.ready.then((session) =>
      tomb === undefined ? { session } : { session, previous: tomb },
    );
  }

  /** Closes every service's session of `key`; the number there was (0: unknown id). */
  delete(key: string, ip: string): number {
    for (const tombKey of this.#tombstones.keys()) {
      if (tombKey.endsWith(` ${key}`)) this.#tombstones.delete(tombKey);
    }
    const services = this.#byKey.get(key);
    if (services === undefined) return 0;
    this.#byKey.delete(key);
    for (const entry of services.values()) {
      entry.deleted = true;
      if (entry.session !== undefined) void entry.session.close('session_closed');
    }
    this.#security.event('session_deleted', {
      session_id: key,
      services: [...services.keys()].join(','),
      ip,
    });
    return services.size;
  }

  async #create(entry: RestSession, ip: string): Promise<Session> {
    let session: Session;
    try {
      session = await this.#registry.create(entry.service, {
        initialize: true,
        idleTimeoutMs: entry.timeoutMs,
        transport: 'rest',
      });
    } catch (err) {
      this.#notStarted(entry);
      throw err;
    }
    try {
      session.attach(this.#sink(entry, session));
    } catch (err) {
      this.#notStarted(entry); // the process died right after starting
      throw err;
    }
    this.#owned.add(session);
    entry.session = session;
    this.#security.event('session_opened', {
      session_id: entry.key,
      service: entry.service,
      session: session.id,
      ip,
    });
    if (entry.deleted) {
      void session.close('session_closed');
      throw new McpmuxError('session_closed', `session ${entry.key} was deleted while starting`);
    }
    return session;
  }

  #sink(entry: RestSession, session: Session): SessionSink {
    return {
      noClient: true, // the session answers the server's requests itself, at once
      send: () => undefined, // server notifications: nobody is listening
      closed: (reason, message) => {
        this.#forget(entry);
        this.#security.event('session_closed', {
          session_id: entry.key,
          service: entry.service,
          session: session.id,
          reason,
        });
        if (!entry.deleted && reason !== 'shutting_down') {
          this.#addTombstone(entry.key, entry.service, { reason, message, at: Date.now() });
        }
      },
    };
  }

  /** The pair's new session did not start: its previous end is still untold (the next call's). */
  #notStarted(entry: RestSession): void {
    this.#forget(entry);
    if (entry.previous !== undefined && !entry.deleted) {
      this.#addTombstone(entry.key, entry.service, entry.previous);
    }
  }

  #forget(entry: RestSession): void {
    const services = this.#byKey.get(entry.key);
    if (services?.get(entry.service) !== entry) return;
    services.delete(entry.service);
    if (services.size === 0) this.#byKey.delete(entry.key);
  }

  #addTombstone(key: string, service: string, tomb: Tombstone): void {
    const tombKey = `${service} ${key}`;
    this.#tombstones.delete(tombKey);
    this.#tombstones.set(tombKey, tomb);
    if (this.#tombstones.size > MAX_TOMBSTONES) {
      const oldest = this.#tombstones.keys().next().value;
      if (oldest !== undefined) this.#tombstones.delete(oldest);
    }
  }

  #takeTombstone(key: string, service: string): Tombstone | undefined {
    const tombKey = `${service} ${key}`;
    const tomb = this.#tombstones.get(tombKey);
    if (tomb === undefined) return undefined;
    this.#tombstones.delete(tombKey);
    return Date.now() - tomb.at < TOMBSTONE_TTL_MS ? tomb : undefined;
  }
}
