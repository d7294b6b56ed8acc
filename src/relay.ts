// The composition root: wires config → manager → session registry → HTTP/WebSocket server (with
// access control, metrics and the REST API), and owns the start and shutdown order. Shutdown is
// start-up reversed, each step under a deadline: not ready → stop accepting → let in-flight
// requests finish (shutdown_grace) → answer what is left with shutting_down (and a `closed`
// envelope per /ws channel) → close sockets with 1001 → stop every session's process. At start,
// session directories a crashed run left in sandbox_dir are removed (sandbox/stale-dirs.ts).

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { WebSocket } from 'ws';
import { serverProblems } from './config/security.js';
import type { Config } from './config/types.js';
import { McpmuxError } from './errors.js';
import { redactUrl, silentLogger, type Logger } from './log.js';
import type { HostInfo } from './sandbox/host.js';
import { releaseSandboxDir, sweepSandboxDir } from './sandbox/stale-dirs.js';
import { MCPManager } from './sessions/mcp-manager.js';
import { SessionRegistry } from './sessions/session-registry.js';
import { AccessControl } from './http/access.js';
import { serveDirect } from './endpoints/ws-direct.js';
import { abandonOpened, openSession, type OpenedSession } from './sessions/session-opener.js';
import { createHttpServer, sendText, type UpgradeTarget } from './http/http-server.js';
import { RelayMetrics } from './http/metrics.js';
import { OUTCOMES } from './http/request-stats.js';
import { serveMux } from './endpoints/ws-mux.js';
import { addRestRoutes } from './endpoints/rest-api.js';
import { StreamableHttp } from './endpoints/streamable-http.js';
import { RestSessions } from './endpoints/rest-sessions.js';
import { GatewayLimits, sendGatewayRefusal } from './http/gateway-limits.js';
import { Router, type Route, type RouteGuard } from './http/routes.js';
import { SecurityLog } from './http/security-log.js';
import { addDashboard } from './dashboard/dashboard.js';
import { addHealthRoutes } from './endpoints/health.js';
import { addUpgradeProbe } from './http/upgrade-probe.js';

export const VERSION = '0.1.0';

/** The stop sequence's step (docs/operations.md, "Shutdown": close stdin, 2 s, SIGTERM, 2 s, SIGKILL). */
const STOP_STEP_MS = 2000;

export type RelayState = 'idle' | 'starting' | 'ready' | 'draining' | 'closed';

export interface RelayOptions {
  logger?: Logger;
  host?: HostInfo;
  /** The config file the relay was started with: hidden from namespaced sessions. */
  configFile?: string;
  /** Milliseconds between process stop steps (docs/operations.md, "Shutdown": 2 s). */
  stopGraceMs?: number;
}

export class Relay {
  readonly config: Config;
  readonly manager: MCPManager;
  readonly registry: SessionRegistry;
  readonly router = new Router();
  readonly metrics: RelayMetrics;
  readonly restSessions: RestSessions;
  readonly #log: Logger;
  readonly #security: SecurityLog;
  readonly #access: AccessControl;
  readonly #guard: RouteGuard;
  readonly #sockets = new Set<WebSocket>();
  readonly #http: ReturnType<typeof createHttpServer>;
  #state: RelayState = 'idle';
  #closing: Promise<void> | undefined;
  #address: AddressInfo | undefined;
  readonly #stopStepMs: number;
  #sandboxClaim: string | undefined;
  #dashboard: { close(): void } | undefined;

  constructor(config: Config, options: RelayOptions = {}) {
    const problem = serverProblems(config.server)[0];
    if (problem !== undefined) throw new Error(problem.message); // the loader reports them all
    this.config = config;
    this.#log = options.logger ?? silentLogger();
    this.#stopStepMs = options.stopGraceMs ?? STOP_STEP_MS;
    this.#security = new SecurityLog(this.#log);
    this.metrics = new RelayMetrics(
      {
        serviceNames: () => this.manager.services.keys(),
        sessions: () => this.registry.all(),
        queues: () => this.registry.queues(),
        processes: (name) => this.manager.processCount(name),
        spares: (name) => this.manager.spareCount(name),
      },
      VERSION,
    );
    this.manager = new MCPManager(config, {
      logger: this.#log,
      ...(options.host !== undefined && { host: options.host }),
      ...(options.configFile !== undefined && { configFile: options.configFile }),
      ...(options.stopGraceMs !== undefined && { stopGraceMs: options.stopGraceMs }),
      onClient: (client) => {
        const name = client.service.name;
        this.metrics.processSpawned(name);
        client.once('exit', (info) => this.metrics.processExited(name, info));
        client.on('junk', () => this.metrics.upstreamJunk(name));
        client.once('protocol_error', (err) => this.metrics.upstreamProtocolError(name, err));
      },
    });
    this.registry = new SessionRegistry(this.manager, config, this.#log, {
      observer: (service) => this.metrics.requestStats(service),
    });
    this.restSessions = new RestSessions(this.registry, this.#security, config.rest.ended_sessions);
    this.#access = new AccessControl({
      config,
      security: this.#security,
      refused: (reason) => this.metrics.refused(reason),
    });
    const gatewayLimits = new GatewayLimits(config.rate_limiting);
    this.#guard = (route, req, res, url) =>
      (!gatewayLimits.enabled || this.#gatewayLimit(gatewayLimits, route, req, res)) &&
      (route.open === true || this.#access.guardRequest(req, res, url));
    this.router.observe((route, status) => this.metrics.httpRequest(route, status));
    this.router.onError((err) => this.#log.error({ err }, 'HTTP route failed'));
    addHealthRoutes(this.router, {
      manager: this.manager,
      sessionCount: () => this.registry.size,
      state: () => this.#state,
      version: VERSION,
    });
    this.router.add({
      method: 'GET',
      name: '/metrics',
      pattern: /^\/metrics$/,
      handler: async (_q, res) => {
        const { text, contentType } = await this.metrics.render();
        sendText(res, 200, text, contentType);
      },
    });
    if (config.server.dashboard) this.#dashboard = this.#addDashboard();
    addUpgradeProbe(this.router, (req, url, service) => {
      if (this.#state !== 'ready')
        throw new McpmuxError('shutting_down', 'the relay is not accepting connections');
      this.#access.probeUpgrade(req, url);
      if (service !== undefined) this.manager.getService(service);
    });
    addRestRoutes(this.router, {
      manager: this.manager,
      registry: this.registry,
      sessions: this.restSessions,
      security: this.#security,
      logger: this.#log,
      maxBodyBytes: config.server.max_message_bytes,
      clientAddress: (req) => this.#access.address(req),
    });
    new StreamableHttp({
      registry: this.registry,
      logger: this.#log,
      maxBodyBytes: config.server.max_message_bytes,
      logBytes: config.session.max_resume_buffer_bytes,
      maxBufferedBytes: config.session.max_buffered_bytes,
      heartbeatMs: config.server.heartbeat_interval * 1000,
    }).addRoutes(this.router);
    this.#http = createHttpServer<OpenedSession | undefined>(config, {
      request: (req, res, url) => this.#onRequest(req, res, url),
      checkUpgrade: (req, target, url) => this.#checkUpgrade(req, target, url),
      prepare: (target) => this.#prepare(target),
      abandon: (opened) => {
        if (opened !== undefined) abandonOpened(opened);
      },
      connection: (ws, socket, target, opened, req) =>
        this.#onConnection(ws, socket, target, opened, req),
      socket: (socket) => this.metrics.trackSocket(socket),
      admitSocket: (socket) => this.#access.admitSocket(socket),
      upgrading: (socket) => this.#access.releaseSocket(socket),
    });
  }

  get state(): RelayState {
    return this.#state;
  }

  /** The bound address (after start()). */
  get address(): AddressInfo {
    if (this.#address === undefined) throw new Error('relay not started');
    return this.#address;
  }

  get url(): string {
    const { address, port, family } = this.address;
    const host = family === 'IPv6' ? `[${address}]` : address;
    const scheme = this.config.server.tls.cert !== '' ? 'https' : 'http';
    return `${scheme}://${host}:${port}`;
  }

  get connectionCount(): number {
    return this.#sockets.size;
  }

  /** The longest close() takes: shutdown_grace, then the stop sequence's two steps. */
  get shutdownBudgetMs(): number {
    return this.config.server.shutdown_grace * 1000 + 2 * this.#stopStepMs;
  }

  async start(): Promise<AddressInfo> {
    if (this.#state !== 'idle') throw new Error(`Relay.start() in state ${this.#state}`);
    this.#state = 'starting';
    this.#sandboxClaim = await sweepSandboxDir(this.config.session.sandbox_dir, this.#log);
    const { server } = this.#http;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.config.server.port, this.config.server.host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.#address = server.address() as AddressInfo;
    this.#state = 'ready';
    for (const entry of this.#access.hosts.invalid) {
      this.#log.warn({ entry }, 'server.allowed_hosts: entry ignored (not name[:port])');
    }
    for (const entry of this.#access.origins.invalid) {
      this.#log.warn({ entry }, 'server.allowed_origins: entry ignored (not scheme://host[:port])');
    }
    const fallback = [...this.manager.isolation].filter(
      ([name, level]) =>
        level === 'rlimits' && this.config.services[name]?.sandbox.isolation === 'auto',
    );
    if (fallback.length > 0) {
      this.#log.warn(
        { services: fallback.map(([name]) => name), reason: this.manager.host.bwrapProblem },
        'bubblewrap not usable: sessions run without namespaces (isolation "rlimits"); ' +
          'install the Debian package bubblewrap (apt-get install bubblewrap)',
      );
    }
    this.#log.info(
      {
        url: this.url,
        services: [...this.manager.services.keys()],
        auth: this.#access.auth.enabled,
        host_check: this.#access.hosts.checking,
        rate_limiting: this.config.rate_limiting.enabled,
        tls: this.config.server.tls.cert === '' ? false : this.config.server.tls.cert,
      },
      'listening',
    );
    this.manager.preloadTools(); // background: GET .../tools answers from cache from the start
    this.manager.startSpares();
    return this.#address;
  }

  /** Graceful shutdown (idempotent). */
  close(): Promise<void> {
    this.#closing ??= this.#shutdown();
    return this.#closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  async #shutdown(): Promise<void> {
    const wasListening = this.#state === 'ready';
    this.#state = 'draining';
    this.#log.info({ sessions: this.registry.size }, 'shutting down');
    const { server } = this.#http;
    const stopped = wasListening
      ? new Promise<void>((resolve) => server.close(() => resolve()))
      : Promise.resolve();
    server.closeIdleConnections();
    this.#dashboard?.close();
    this.registry.stopAccepting();
    await this.registry.drained(this.config.server.shutdown_grace * 1000);
    // Past the grace: every request still in flight is answered with shutting_down and every
    // channel gets its `closed` (a direct socket its 1001) now, synchronously, so all of it is
    // queued on the sockets before their close frames.
    const sessionsClosed = this.registry.closeAll('shutting_down');
    for (const ws of this.#sockets) ws.close(1001, 'relay shutting down');
    // Every process stops in parallel (sessions' and tool listings'): the stop sequence once.
    await Promise.all([sessionsClosed, this.manager.shutdown()]);
    for (const ws of this.#sockets) ws.terminate();
    server.closeAllConnections();
    await stopped;
    if (this.#sandboxClaim !== undefined) {
      await releaseSandboxDir(this.config.session.sandbox_dir, this.#sandboxClaim);
    }
    this.#state = 'closed';
    this.#log.info('shut down');
  }

  #onRequest(req: IncomingMessage, res: ServerResponse, url: URL): void {
    if (!this.#access.guardHost(req, res)) return; // DNS rebinding: every route, health too
    if (this.#access.cors(req, res)) return; // a CORS preflight, answered
    this.router.handle(req, res, url, this.#guard);
  }

  /** The SignalWire gateway's per-route limits (rate_limiting.*_limit keys); false: refused. */
  #gatewayLimit(
    limits: GatewayLimits,
    route: Route,
    req: IncomingMessage,
    res: ServerResponse,
  ): boolean {
    const ip = this.#access.address(req);
    const decision = limits.take(req.method ?? 'GET', route.name ?? '', ip);
    if (decision.ok) return true;
    this.metrics.refused('rate_limited');
    this.#security.event('rate_limited', { ip, transport: 'http', limit: decision.limit });
    sendGatewayRefusal(res, decision);
    return false;
  }

  #checkUpgrade(req: IncomingMessage, target: UpgradeTarget, url: URL): void {
    if (this.#state !== 'ready')
      throw new McpmuxError('shutting_down', 'the relay is not accepting connections');
    this.#access.checkUpgrade(req, url); // Origin, auth, rate limit, connection caps
    if (target.kind === 'direct') this.manager.getService(target.service);
  }

  /** /mcp opens (or resumes) its session before the upgrade completes: the 101 names it. */
  async #prepare(
    target: UpgradeTarget,
  ): Promise<{ context: OpenedSession | undefined; headers: string[] }> {
    if (target.kind !== 'direct') return { context: undefined, headers: [] };
    const prepared = await openSession(this.registry, target.service, target.resumeId);
    const headers = prepared.ok
      ? [
          `Mcpmux-Session: ${prepared.session.id}`,
          `Mcpmux-Resume-Token: ${this.registry.resumeToken(prepared.session)}`,
        ]
      : [];
    return { context: prepared, headers };
  }

  #onConnection(
    ws: WebSocket,
    socket: Socket,
    target: UpgradeTarget,
    prepared: OpenedSession | undefined,
    req: IncomingMessage,
  ): void {
    const endpoint = target.kind;
    const ip = this.#access.address(req);
    const path = redactUrl(req.url ?? '');
    this.#sockets.add(ws);
    this.metrics.connectionOpened(endpoint);
    this.#log.info({ endpoint, ip, path }, 'connection opened');
    ws.once('close', (code: number) => {
      this.#sockets.delete(ws);
      this.metrics.connectionClosed(endpoint);
      this.#log.info({ endpoint, ip, path, code }, 'connection closed');
    });
    const ctx = {
      registry: this.registry,
      maxBufferedBytes: this.config.session.max_buffered_bytes,
      logger: this.#log,
      admit: this.#access.admitFor(ip),
    };
    if (target.kind === 'direct') {
      serveDirect(ws, socket, ctx, target.service, prepared!, target.replay);
    } else {
      serveMux(ws, socket, {
        ...ctx,
        maxChannels: this.config.server.max_channels_per_connection,
        checkService: (name) => this.manager.getService(name),
      });
    }
  }

  /** GET / (the page), /dashboard/* (its files), /events (live snapshots, behind auth). */
  #addDashboard(): { close(): void } {
    return addDashboard(this.router, {
      services: () => this.manager.services.values(),
      sessions: () => this.registry.all(),
      queue: (name) => this.registry.queues().get(name)?.stats(),
      traffic: (name) => {
        const stats = this.metrics.requestStats(name);
        const outcomes: Record<string, number> = {};
        OUTCOMES.forEach((o, i) => (outcomes[o] = stats.outcomes[i] ?? 0));
        return { outcomes, bounds: stats.duration.bounds, counts: stats.duration.counts };
      },
      processes: (name) => this.manager.processCount(name),
      spares: (name) => this.manager.spareCount(name),
      relayState: () => this.#state,
    });
  }
}

export function createRelay(config: Config, options?: RelayOptions): Relay {
  return new Relay(config, options);
}
