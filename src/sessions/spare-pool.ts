// Warm spares (docs/operations.md "Latency"): per service, `warm_spares` server processes started
// ahead, sandboxed exactly like a session's and NOT initialized (the client's own `initialize`
// must reach the server; a REST session's is sent by the relay), handed to the next session that
// opens; a replacement starts in the background. A spare holds a session slot (it counts against
// the limits); one that exits is dropped at once (never handed out) and replaced after a pause, so
// a server that dies on start cannot spin the CPU.

import type { Logger } from '../log.js';
import type { MCPClient } from '../mcp/mcp-client.js';

/** Pause before replacing a spare that exited on its own. */
export const SPARE_REPLACE_DELAY_MS = 1000;
/** The longest a handed-out spare's replacement waits for that spare's first answer. */
export const SPARE_REPLACE_WAIT_MS = 500;

export interface SparePoolOptions {
  /** How many spares `service` keeps (services.<name>.warm_spares). */
  target: (service: string) => number;
  /** Spawns one uninitialized client holding a slot; rejects (session_limit, …) when it cannot. */
  spawn: (service: string) => Promise<MCPClient>;
  logger: Logger;
  replaceDelayMs?: number;
  /** See replaceAfterFirstAnswer (SPARE_REPLACE_WAIT_MS). */
  replaceWaitMs?: number;
}

export class SparePool {
  readonly #o: SparePoolOptions;
  readonly #log: Logger;
  readonly #ready = new Map<string, Set<MCPClient>>();
  /** Spares being spawned, per service. */
  readonly #starting = new Map<string, number>();
  readonly #timers = new Set<NodeJS.Timeout>();
  #closed = false;

  constructor(options: SparePoolOptions) {
    this.#o = options;
    this.#log = options.logger.child({ component: 'spares' });
  }

  /** Ready spares of `service`. */
  count(service: string): number {
    return this.#ready.get(service)?.size ?? 0;
  }

  /** A live, uninitialized spare of `service`, removed from the pool; undefined when none. */
  take(service: string): MCPClient | undefined {
    const ready = this.#ready.get(service);
    if (ready === undefined) return undefined;
    for (const client of ready) {
      ready.delete(client);
      if (client.state !== 'running') continue; // exited meanwhile: never handed out
      this.#log.info({ service, session: client.sessionId, pid: client.pid }, 'spare handed out');
      return client;
    }
    return undefined;
  }

  /** Starts spares of `service` up to its target, in the background. */
  fill(service: string): void {
    const missing =
      this.#o.target(service) - this.count(service) - (this.#starting.get(service) ?? 0);
    for (let i = 0; i < missing && !this.#closed; i++) this.#startOne(service);
  }

  /**
   * The replacement of `spare`, handed out uninitialized, starts once that spare has answered its
   * first message (the client's initialize), or after replaceWaitMs, or when it exits: spawning it
   * (a synchronous fork, then a server booting on the same cores) must not delay that answer.
   */
  replaceAfterFirstAnswer(service: string, spare: MCPClient): void {
    const replace = () => {
      clearTimeout(timer);
      this.#timers.delete(timer);
      spare.off('response', replace);
      spare.off('exit', replace);
      this.replaceSoon(service);
    };
    const timer = setTimeout(replace, this.#o.replaceWaitMs ?? SPARE_REPLACE_WAIT_MS);
    timer.unref();
    this.#timers.add(timer);
    spare.once('response', replace);
    spare.once('exit', replace);
  }

  /**
   * Starts the replacement of a spare handed out after this event-loop turn: a spawn forks the
   * relay (about 10 ms of blocked event loop on a small machine), which must come after the answer
   * in hand has been passed on and written, not before.
   */
  replaceSoon(service: string): void {
    setImmediate(() => this.fill(service));
  }

  /** No more spares; pending replacements cancelled (the manager stops the processes). */
  close(): void {
    this.#closed = true;
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }

  #startOne(service: string): void {
    this.#starting.set(service, (this.#starting.get(service) ?? 0) + 1);
    const done = () => this.#starting.set(service, (this.#starting.get(service) ?? 1) - 1);
    this.#o.spawn(service).then(
      (client) => {
        done();
        if (this.#closed || client.state !== 'running') {
          void client.stop();
          return;
        }
        let ready = this.#ready.get(service);
        if (ready === undefined) this.#ready.set(service, (ready = new Set()));
        ready.add(client);
        this.#log.info({ service, session: client.sessionId, pid: client.pid }, 'spare ready');
        client.once('exit', () => {
          if (!ready.delete(client)) return; // handed out: the session owns it now
          this.#log.warn({ service, session: client.sessionId }, 'spare exited: replacing it');
          this.#later(service);
        });
      },
      (err: unknown) => {
        done();
        const reason = (err as { reason?: string }).reason;
        // At the session limit a spare waits for a free slot (the manager calls fill again).
        if (reason === 'session_limit' || reason === 'shutting_down') return;
        this.#log.warn({ service, err: (err as Error).message }, 'spare failed to start');
        this.#later(service);
      },
    );
  }

  #later(service: string): void {
    if (this.#closed) return;
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.fill(service);
    }, this.#o.replaceDelayMs ?? SPARE_REPLACE_DELAY_MS);
    timer.unref();
    this.#timers.add(timer);
  }
}
