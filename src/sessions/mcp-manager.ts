// MCPManager: owns the configured services and every live MCPClient. It enforces the session
// limits before anything is spawned (a slot is reserved synchronously, so concurrent creates are
// counted without a global lock), caches each service's tool list, and stops everything on shutdown.
// A tool listing (cache miss) runs its own short-lived process outside the session limits, as
// SignalWire's gateway does, so listing is never refused for session_limit; it is bounded by one
// listing at a time per service instead. Lists are served stale-while-revalidate (tool-cache.ts).

import { McpmuxError } from '../errors.js';
import type { Config } from '../config/types.js';
import { silentLogger, type Logger } from '../log.js';
import { MCPClient, type StartOptions } from '../mcp/mcp-client.js';
import { listAllTools, type Tool } from '../mcp/mcp-helpers.js';
import { MCPService } from '../mcp/mcp-service.js';
import { hostInfo, type HostInfo } from '../sandbox/host.js';
import { resolveIsolation, type IsolationLevel } from '../sandbox/namespace-plan.js';
import { PackageCache } from '../sandbox/package-cache.js';
import { UidPool } from '../sandbox/uid-pool.js';
import { SparePool } from './spare-pool.js';
import { cacheHintMs, ToolCache, type ToolListing } from './tool-cache.js';

/** How long a new spare's boot ping may take before it counts as ready anyway. */
const SPARE_PING_TIMEOUT_MS = 10_000;

export interface MCPManagerOptions {
  logger?: Logger;
  host?: HostInfo;
  /** The relay's config file: hidden from namespaced sessions. */
  configFile?: string;
  /** Milliseconds between stop steps (docs/operations.md, "Shutdown": 2 s). */
  stopGraceMs?: number;
  /** Told of every client before it starts (the relay's metrics count spawns and exits). */
  onClient?: (client: MCPClient) => void;
  /** How long a handed-out spare's replacement waits for that spare's first answer (500 ms). */
  spareReplaceWaitMs?: number;
}

export interface CreateClientOptions extends StartOptions {
  sessionId?: string;
  /** A tool listing: not counted against (nor refused by) the session limits. */
  listing?: boolean;
}

export interface ServiceValidation {
  ok: boolean;
  tools?: number;
  error?: string;
}

export interface ManagerStats {
  sessions: number;
  byService: Record<string, number>;
  spawns: number;
}

export class MCPManager {
  readonly config: Config;
  readonly services: ReadonlyMap<string, MCPService>;
  /** The isolation level each service's sessions get on this host (GET /health). */
  readonly isolation: ReadonlyMap<string, IsolationLevel>;
  readonly host: HostInfo;
  readonly #uids: UidPool;
  readonly #hidden: readonly string[];
  readonly #options: MCPManagerOptions;
  readonly #log: Logger;
  readonly #clients = new Set<MCPClient>();
  readonly #counts = new Map<string, number>();
  #total = 0;
  #spawns = 0;
  readonly #tools: ToolCache;
  readonly #spares: SparePool;
  /** Shared package cache (session.package_cache_dir); undefined when disabled. */
  readonly packages: PackageCache | undefined;
  readonly #listers = new Set<MCPClient>();
  #shutdown: Promise<void> | undefined;

  constructor(config: Config, options: MCPManagerOptions = {}) {
    this.config = config;
    this.#options = options;
    this.#log = (options.logger ?? silentLogger()).child({ component: 'manager' });
    const cacheDir = config.session.package_cache_dir;
    this.packages = cacheDir === '' ? undefined : new PackageCache(cacheDir, this.#log);
    this.#spares = new SparePool({
      target: (name) => this.services.get(name)?.config.warm_spares ?? 0,
      spawn: (name) => this.#spawnSpare(name),
      logger: this.#log,
      ...(options.spareReplaceWaitMs !== undefined && {
        replaceWaitMs: options.spareReplaceWaitMs,
      }),
    });
    this.#tools = new ToolCache({ fetch: (name) => this.#fetchTools(name), logger: this.#log });
    const services = new Map<string, MCPService>();
    for (const [name, service] of Object.entries(config.services)) {
      services.set(name, new MCPService(name, service));
    }
    this.services = services;
    this.host = options.host ?? hostInfo();
    this.#uids = new UidPool(config.session.uid_range_first, config.session.uid_range_size);
    const isolation = new Map<string, IsolationLevel>();
    for (const [name, service] of Object.entries(config.services)) {
      const level = resolveIsolation(service.sandbox, this.host.bwrap !== undefined);
      if (level === undefined) {
        throw new McpmuxError(
          'spawn_failed',
          `services.${name}.sandbox needs isolation "namespaces" (asked for, or network "none") ` +
            `but bubblewrap is not usable ` +
            `(${this.host.bwrapProblem ?? 'unknown'}): apt-get install bubblewrap, or choose "auto"`,
          { service: name },
        );
      }
      isolation.set(name, level);
    }
    this.isolation = isolation;
    // What a namespaced session must not see: the config (secrets), the TLS key, the relay's log.
    this.#hidden = [options.configFile ?? '', config.server.tls.key, config.logging.file].filter(
      (path) => path !== '',
    );
  }

  get isShuttingDown(): boolean {
    return this.#shutdown !== undefined;
  }

  /** The service, or a McpmuxError (unknown_service / service_disabled) thrown. */
  getService(name: string): MCPService {
    const service = this.services.get(name);
    if (service === undefined) {
      throw new McpmuxError('unknown_service', `unknown service: ${name}`, { service: name });
    }
    if (!service.enabled) {
      throw new McpmuxError('service_disabled', `service ${name} is disabled`, { service: name });
    }
    return service;
  }

  /** Live clients, newest last. */
  clients(): MCPClient[] {
    return [...this.#clients];
  }

  sessionCount(service?: string): number {
    return service === undefined ? this.#total : (this.#counts.get(service) ?? 0);
  }

  /** Live server processes of `service`: its sessions plus a tool listing, if one runs. */
  processCount(service: string): number {
    let listing = 0;
    for (const c of this.#listers) if (c.service.name === service) listing++;
    return this.sessionCount(service) + listing;
  }

  stats(): ManagerStats {
    return {
      sessions: this.#total,
      byService: Object.fromEntries(this.#counts),
      spawns: this.#spawns,
    };
  }

  /**
   * Spawns a client for `name` (and initializes it when asked). Refuses unknown or disabled
   * services, the session limits and a shutting-down manager before spawning anything.
   */
  async createClient(name: string, options: CreateClientOptions = {}): Promise<MCPClient> {
    const service = this.getService(name);
    if (this.isShuttingDown) throw new McpmuxError('shutting_down', 'the relay is shutting down');
    const spare =
      options.listing === true || options.sessionId !== undefined
        ? undefined
        : this.#spares.take(name);
    if (spare === undefined) return this.#spawnClient(service, options);
    if (options.initialize === undefined || options.initialize === false) {
      this.#spares.replaceAfterFirstAnswer(name, spare);
      return spare;
    }
    try {
      const params = options.initialize === true ? undefined : options.initialize;
      await spare.initialize(params, options);
    } catch (err) {
      await spare.stop();
      throw err;
    } finally {
      this.#spares.replaceSoon(name); // its replacement, once the answer is in
    }
    return spare;
  }

  /** Ready warm spares of `name`. */
  spareCount(name: string): number {
    return this.#spares.count(name);
  }

  /** Starts every enabled service's warm spares (relay start), in the background. */
  startSpares(): void {
    for (const service of this.services.values()) {
      if (service.enabled) this.#spares.fill(service.name);
    }
  }

  /**
   * A spare: spawned, then pinged (MCP allows ping before initialize) so that it is ready only once
   * the server has booted; a server that does not answer ping is ready after its error or 10 s.
   */
  async #spawnSpare(name: string): Promise<MCPClient> {
    const client = await this.#spawnClient(this.getService(name), {});
    await client.request('ping', undefined, { timeoutMs: SPARE_PING_TIMEOUT_MS }).catch(() => {
      // booted enough to answer (an error), or slow: ready anyway
    });
    return client;
  }

  /** Reserves a slot (unless listing), spawns the process, initializes it when asked. */
  async #spawnClient(service: MCPService, options: CreateClientOptions): Promise<MCPClient> {
    const name = service.name;
    if (this.isShuttingDown) throw new McpmuxError('shutting_down', 'the relay is shutting down');
    if (options.listing !== true) this.#reserve(service.name);
    let runs: MCPService;
    try {
      // no await unless the cache applies: a plain spawn starts synchronously
      runs = this.packages?.handles(service.config)
        ? await this.#fromPackageCache(service)
        : service;
    } catch (err) {
      if (options.listing !== true) this.#unreserve(service.name);
      throw err;
    }
    const client = new MCPClient(runs, {
      sandboxDir: this.config.session.sandbox_dir,
      maxMessageBytes: this.config.server.max_message_bytes,
      logger: this.#log,
      ...(options.sessionId !== undefined && { sessionId: options.sessionId }),
      host: this.host,
      uids: this.#uids,
      hide: this.#hidden,
      ...(this.#options.stopGraceMs !== undefined && { stopGraceMs: this.#options.stopGraceMs }),
    });
    this.#clients.add(client);
    if (options.listing === true) this.#listers.add(client);
    this.#options.onClient?.(client);
    client.once('exit', () => this.#release(client));
    client.on('notification', (message) => {
      if (message.method === 'notifications/tools/list_changed') this.#tools.invalidate(name);
    });
    try {
      this.#spawns++;
      await client.start(options);
    } catch (err) {
      await client.stop();
      this.#release(client);
      throw err;
    }
    return client;
  }

  /**
   * The service's tools: from cache at once after the first fill (a stale list is served while
   * one short-lived process refreshes it); the first fill waits for that process.
   */
  getServiceTools(name: string): Promise<Tool[]> {
    this.getService(name);
    return this.#tools.get(name);
  }

  /** Marks the cached tool list of `name` stale (a session saw list_changed). */
  invalidateTools(name: string): void {
    this.#tools.invalidate(name);
  }

  /** Fetches, in the background, the tool list of every enabled service with preload_tools. */
  preloadTools(): void {
    for (const service of this.services.values()) {
      if (service.enabled && service.config.preload_tools) this.#tools.preload(service.name);
    }
  }

  /** Starts, initializes and lists the tools of every enabled service, concurrently. */
  async validateServices(): Promise<Record<string, ServiceValidation>> {
    const names = [...this.services.values()].filter((s) => s.enabled).map((s) => s.name);
    const results = await Promise.all(
      names.map(async (name): Promise<[string, ServiceValidation]> => {
        try {
          this.#tools.forget(name);
          const tools = await this.getServiceTools(name);
          return [name, { ok: true, tools: tools.length }];
        } catch (err) {
          return [name, { ok: false, error: (err as Error).message }];
        }
      }),
    );
    return Object.fromEntries(results);
  }

  /** Stops every client (in parallel); further creates are refused. Idempotent. */
  shutdown(): Promise<void> {
    this.#shutdown ??= (async () => {
      const clients = [...this.#clients];
      this.#log.info({ sessions: clients.length }, 'stopping all sessions');
      this.packages?.close();
      this.#spares.close();
      await Promise.all(clients.map((c) => c.stop()));
    })();
    return this.#shutdown;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  /**
   * SIGKILLs every server's process group at once, without waiting: the relay is about to exit
   * (an operator's second signal, a shutdown past its deadline) and no server may outlive it.
   * Their session directories stay for the next start's sweep.
   */
  killAll(): void {
    for (const client of this.#clients) {
      if (client.pid === undefined) continue;
      try {
        process.kill(-client.pid, 'SIGKILL'); // its own process group (ManagedChild: detached)
      } catch {
        // already gone
      }
    }
  }

  async #fetchTools(name: string): Promise<ToolListing> {
    const client = await this.createClient(name, { initialize: true, listing: true });
    try {
      let ttlMs: number | undefined;
      const tools = await listAllTools(async (params) => {
        const page = await client.request('tools/list', params);
        ttlMs ??= cacheHintMs(page); // the first page's hint holds for the list
        return page;
      });
      return { tools, ttlMs };
    } finally {
      await client.stop();
    }
  }

  #reserve(name: string): void {
    const { max_sessions_per_service: perService, max_total_sessions: total } = this.config.session;
    const count = this.#counts.get(name) ?? 0;
    if (count >= perService || this.#total >= total) {
      const limit = count >= perService ? 'max_sessions_per_service' : 'max_total_sessions';
      throw new McpmuxError('session_limit', `session limit reached (${limit})`, {
        limit,
        service: name,
        sessions: count,
        total_sessions: this.#total,
      });
    }
    this.#counts.set(name, count + 1);
    this.#total++;
  }

  /**
   * The service as its session runs it: an npx service from the shared package cache (filled first
   * when needed; read-only inside), else as configured.
   */
  async #fromPackageCache(service: MCPService): Promise<MCPService> {
    const cache = this.packages;
    if (cache === undefined || !cache.handles(service.config)) return service;
    const command = cache.commandFor(service.config) ?? (await cache.fill(service.config));
    if (this.isShuttingDown) throw new McpmuxError('shutting_down', 'the relay is shutting down');
    if (command === undefined) return service;
    const { sandbox } = service.config;
    return new MCPService(service.name, {
      ...service.config,
      command,
      sandbox: { ...sandbox, binds: [...sandbox.binds, `${cache.dir}:ro`] },
    });
  }

  #unreserve(name: string): void {
    this.#counts.set(name, (this.#counts.get(name) ?? 1) - 1);
    this.#total--;
  }

  #release(client: MCPClient): void {
    if (!this.#clients.delete(client)) return;
    if (this.#listers.delete(client)) return; // never counted
    const name = client.service.name;
    this.#counts.set(name, (this.#counts.get(name) ?? 1) - 1);
    this.#total--;
    if (!this.isShuttingDown) this.#spares.fill(name); // a slot freed: a spare may wait for one
  }
}
