// Each service's tool list, served stale-while-revalidate (docs/operations.md "Latency"): the first
// fill is awaited; after it a list is always answered at once, and a stale one (a session saw
// notifications/tools/list_changed, or the server's cache hint expired) starts one refresh in the
// background. One fetch per service at a time; a list invalidated while its fetch ran is stored
// stale, so the next read refreshes it again. A failed refresh keeps the last good list.

import type { Logger } from '../log.js';
import type { Tool } from '../mcp/mcp-helpers.js';

export interface ToolListing {
  tools: Tool[];
  /** The server's cache hint in ms (cacheHintMs), if it sent one. */
  ttlMs?: number | undefined;
}

/** Bounds on a server's hint: a tiny one must not turn every read into a spawn. */
export const MIN_TTL_MS = 1000;
export const MAX_TTL_MS = 24 * 3600 * 1000;

/**
 * The cache hint of a tools/list result: `ttlMs` at the top level or in `_meta`
 * (a non-negative finite number of milliseconds), clamped to [MIN_TTL_MS, MAX_TTL_MS].
 */
export function cacheHintMs(result: unknown): number | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const r = result as { ttlMs?: unknown; _meta?: { ttlMs?: unknown } | null };
  const raw = typeof r.ttlMs === 'number' ? r.ttlMs : r._meta?.ttlMs;
  if (typeof raw !== 'number' || !Number.isFinite(raw) || raw < 0) return undefined;
  return Math.min(MAX_TTL_MS, Math.max(MIN_TTL_MS, raw));
}

interface Entry {
  tools: Tool[];
  /** Clock time after which the list is stale (Infinity: until list_changed). */
  expiresAt: number;
  stale: boolean;
}

export interface ToolCacheOptions {
  fetch: (service: string) => Promise<ToolListing>;
  logger: Logger;
  now?: () => number;
}

export class ToolCache {
  readonly #fetch: (service: string) => Promise<ToolListing>;
  readonly #log: Logger;
  readonly #now: () => number;
  readonly #entries = new Map<string, Entry>();
  readonly #inflight = new Map<string, Promise<Tool[]>>();
  /** Invalidated while a fetch ran: its result is stored stale. */
  readonly #dirty = new Set<string>();

  constructor(options: ToolCacheOptions) {
    this.#fetch = options.fetch;
    this.#log = options.logger;
    this.#now = options.now ?? Date.now;
  }

  /** The list: at once when one was ever fetched (refreshing it if stale), else the first fill. */
  get(service: string): Promise<Tool[]> {
    const entry = this.#entries.get(service);
    if (entry === undefined) return this.#refresh(service);
    if (entry.stale || this.#now() >= entry.expiresAt) {
      this.#refresh(service).catch(() => undefined); // logged in #refresh; last list kept
    }
    return Promise.resolve(entry.tools);
  }

  /** Whether a list (fresh or stale) is held for `service`. */
  has(service: string): boolean {
    return this.#entries.has(service);
  }

  /** Fetches in the background (relay start: preload_tools); a failure is logged only. */
  preload(service: string): void {
    this.#refresh(service).catch(() => undefined);
  }

  /** The list changed (list_changed): the next read serves it once more and refreshes it. */
  invalidate(service: string): void {
    const entry = this.#entries.get(service);
    if (entry !== undefined) entry.stale = true;
    if (this.#inflight.has(service)) this.#dirty.add(service);
  }

  /** Forgets `service`'s list: the next read waits for a fresh fill (validateServices). */
  forget(service: string): void {
    this.#entries.delete(service);
    if (this.#inflight.has(service)) this.#dirty.add(service);
  }

  /** The one fetch in flight for `service`, or a new one. */
  #refresh(service: string): Promise<Tool[]> {
    const running = this.#inflight.get(service);
    if (running !== undefined) return running;
    this.#dirty.delete(service);
    const started = this.#now();
    const fetched = this.#fetch(service).then(
      ({ tools, ttlMs }) => {
        const stale = this.#dirty.delete(service);
        const expiresAt = ttlMs === undefined ? Infinity : this.#now() + ttlMs;
        this.#entries.set(service, { tools, expiresAt, stale });
        this.#log.info(
          { service, tools: tools.length, ms: this.#now() - started, ttl_ms: ttlMs },
          'tool list fetched',
        );
        return tools;
      },
      (err: unknown) => {
        this.#log.warn({ service, err }, 'tool list fetch failed (retried on the next read)');
        throw err;
      },
    );
    this.#inflight.set(service, fetched);
    const done = () => {
      if (this.#inflight.get(service) === fetched) this.#inflight.delete(service);
    };
    fetched.then(done, done);
    return fetched;
  }
}
