// The composition root: wires config → manager → session registry → HTTP/WebSocket server, and
// owns the start and shutdown order. Shutdown is start-up reversed, each step under a deadline:
// not ready → stop accepting → let in-flight requests finish (shutdown_grace) → close sockets with
// 1001 → stop every session's process.

import type { Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import type { WebSocket } from 'ws';
import type { Config } from './config/types.js';
import { McpmuxError } from './errors.js';
import { silentLogger, type Logger } from './log.js';
import type { HostInfo } from './sandbox/host.js';
import { MCPManager } from './services/mcp-manager.js';
import { SessionRegistry } from './services/session-registry.js';
import { prepareDirect, serveDirect, type DirectPrepared } from './server/direct-connection.js';
import { createHttpServer, sendJson, type UpgradeTarget } from './server/http-server.js';
import { serveMux } from './server/mux-connection.js';
import { Router } from './server/routes.js';

export const VERSION = '0.1.0';

export type RelayState = 'idle' | 'starting' | 'ready' | 'draining' | 'closed';

export interface RelayOptions {
  logger?: Logger;
  host?: HostInfo;
  /** Milliseconds between process stop steps (SPEC: 2 s). */
  stopGraceMs?: number;
}

export class Relay {
  readonly config: Config;
  readonly manager: MCPManager;
  readonly registry: SessionRegistry;
  readonly router = new Router();
  readonly #log: Logger;
  readonly #sockets = new Set<WebSocket>();
  readonly #http: ReturnType<typeof createHttpServer>;
  #state: RelayState = 'idle';
  #closing: Promise<void> | undefined;
  #address: AddressInfo | undefined;

  constructor(config: Config, options: RelayOptions = {}) {
    this.config = config;
    this.#log = options.logger ?? silentLogger();
    this.manager = new MCPManager(config, {
      logger: this.#log,
      ...(options.host !== undefined && { host: options.host }),
      ...(options.stopGraceMs !== undefined && { stopGraceMs: options.stopGraceMs }),
    });
    this.registry = new SessionRegistry(this.manager, config, this.#log);
    this.#addHealthRoutes();
    this.#http = createHttpServer(config, {
      request: (req, res, url) => this.router.handle(req, res, url),
      checkUpgrade: (_req, target) => this.#checkUpgrade(target),
      prepare: (target) => this.#prepare(target),
      abandon: (context) => {
        const prepared = context as DirectPrepared | undefined;
        if (prepared !== undefined && 'session' in prepared && !prepared.resumed) {
          void prepared.session.close('session_closed');
        }
      },
      connection: (ws, socket, target, context) =>
        this.#onConnection(ws, socket, target, context as DirectPrepared | undefined),
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

  async start(): Promise<AddressInfo> {
    if (this.#state !== 'idle') throw new Error(`Relay.start() in state ${this.#state}`);
    this.#state = 'starting';
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
    this.#log.info({ url: this.url, services: [...this.manager.services.keys()] }, 'listening');
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
    await this.#drain(this.config.server.shutdown_grace * 1000);
    for (const ws of this.#sockets) ws.close(1001, 'relay shutting down');
    await this.registry.closeAll('shutting_down');
    await this.manager.shutdown();
    for (const ws of this.#sockets) ws.terminate();
    server.closeAllConnections();
    await stopped;
    this.#state = 'closed';
    this.#log.info('shut down');
  }

  /** Waits (bounded) until no session has a request in flight. */
  async #drain(graceMs: number): Promise<void> {
    const deadline = Date.now() + graceMs;
    const busy = () => this.registry.all().some((s) => s.inflightCount > 0);
    while (busy() && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  #checkUpgrade(target: UpgradeTarget): void {
    if (this.#state !== 'ready')
      throw new McpmuxError('shutting_down', 'the relay is not accepting connections');
    if (this.#sockets.size >= this.config.server.max_connections) {
      throw new McpmuxError('connection_limit', 'too many connections');
    }
    if (target.kind === 'direct') this.manager.getService(target.service);
  }

  async #prepare(target: UpgradeTarget): Promise<{ context: unknown; headers: string[] }> {
    if (target.kind !== 'direct') return { context: undefined, headers: [] };
    const prepared = await prepareDirect(this.registry, target.service, target.resumeId);
    const headers = 'session' in prepared ? [`Mcpmux-Session: ${prepared.session.id}`] : [];
    return { context: prepared, headers };
  }

  #onConnection(
    ws: WebSocket,
    socket: Socket,
    target: UpgradeTarget,
    prepared: DirectPrepared | undefined,
  ): void {
    this.#sockets.add(ws);
    ws.once('close', () => this.#sockets.delete(ws));
    const ctx = {
      registry: this.registry,
      maxBufferedBytes: this.config.session.max_buffered_bytes,
      logger: this.#log,
    };
    if (target.kind === 'direct') {
      serveDirect(ws, socket, ctx, target.service, prepared!);
    } else {
      serveMux(ws, socket, {
        ...ctx,
        maxChannels: this.config.server.max_channels_per_connection,
        checkService: (name) => this.manager.getService(name),
      });
    }
  }

  #addHealthRoutes(): void {
    this.router
      .add({
        method: 'GET',
        pattern: /^\/healthz$/,
        open: true,
        handler: (_q, res) => sendJson(res, 200, { status: 'ok' }),
      })
      .add({
        method: 'GET',
        pattern: /^\/readyz$/,
        open: true,
        handler: (_q, res) => {
          const ready = this.#state === 'ready';
          sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : this.#state });
        },
      })
      .add({
        method: 'GET',
        pattern: /^\/health$/,
        open: true,
        handler: (_q, res) => {
          const services: Record<string, { enabled: boolean; sessions: number }> = {};
          for (const [name, s] of this.manager.services) {
            services[name] = { enabled: s.enabled, sessions: this.manager.sessionCount(name) };
          }
          sendJson(res, 200, {
            status: 'healthy',
            timestamp: new Date().toISOString(),
            version: VERSION,
            services,
            sessions: this.registry.size,
          });
        },
      });
  }
}

export function createRelay(config: Config, options?: RelayOptions): Relay {
  return new Relay(config, options);
}
