// MCPClient: one service's server as a sandboxed subprocess speaking newline-delimited JSON-RPC.
// It owns the ManagedChild, decodes stdout (bounded lines, one parse per message), and owns the
// relay's id namespace for the process (nextRequestId: a random prefix no client id can collide
// with). Its own request() serves what the relay does outside a session (initialize, a spare's
// ping, the tool-list fetch) and fails the moment the process exits; a session's requests, the
// REST API's included, go through ClientRequests (src/sessions) with ids from the same namespace.
// Everything else the server sends is emitted as events for the session/relay to route.

import { randomBytes } from 'node:crypto';
import { EventEmitter } from 'node:events';
import { v4 as uuidv4 } from 'uuid';
import { McpmuxError } from '../errors.js';
import type {
  Classified,
  JsonRpcErrorBody,
  JsonRpcId,
  JsonRpcNotification,
  JsonRpcRequest,
  JsonRpcResponse,
} from '../jsonrpc/types.js';
import { silentLogger, type Logger } from '../log.js';
import { hostInfo, type HostInfo } from '../sandbox/host.js';
import { ManagedChild, type ExitInfo } from '../sandbox/managed-child.js';
import { prepareSpawn } from '../sandbox/session-spawn.js';
import type { UidPool } from '../sandbox/uid-pool.js';
import type { MCPService } from './mcp-service.js';
import { PendingRequests, type ProgressParams } from './pending.js';
import { ServerOutput } from './server-output.js';
import { StderrLog } from './stderr-log.js';
import { PROTOCOL_VERSION, exitError, listAllTools, type Tool } from './mcp-helpers.js';

/** server.max_message_bytes' default (src/config/schema.ts). */
const DEFAULT_MAX_MESSAGE_BYTES = 16 * 1024 * 1024;

export type ClientState = 'idle' | 'starting' | 'running' | 'stopping' | 'exited';

export interface MCPClientOptions {
  /** Session id (a uuid by default); names the session directory. */
  sessionId?: string;
  /** Absolute directory under which the session directory is made (session.sandbox_dir). */
  sandboxDir: string;
  /** Longest stdout line accepted (server.max_message_bytes); a longer one is a protocol error. */
  maxMessageBytes?: number;
  stopGraceMs?: number;
  logger?: Logger;
  host?: HostInfo;
  /** Per-session uids (drop_privileges as root); without one such a session runs as nobody. */
  uids?: UidPool;
  /** Files a namespaced session must not see (the relay's config file). */
  hide?: readonly string[];
  clientInfo?: { name: string; version: string };
}

export interface RequestOptions {
  signal?: AbortSignal;
  /** Defaults to the service's request_timeout. */
  timeoutMs?: number;
  onProgress?: (progress: ProgressParams) => void;
}

export interface StartOptions {
  /** true: send initialize (default params) + notifications/initialized; an object: these params. */
  initialize?: boolean | Record<string, unknown>;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export interface MCPClientEvents {
  /** A notification from the server (progress for the client's own requests is not emitted). */
  notification: [message: JsonRpcNotification, line: string];
  /** A server→client request; with no listener it is answered at once (ping → {}, else error). */
  request: [message: JsonRpcRequest, line: string];
  /** A response to an id that is not the client's own (i.e. to a request sent with sendRaw). */
  response: [message: JsonRpcResponse, line: string];
  stderr: [line: string];
  /** A stdout line that is not a JSON-RPC message was skipped (ServerOutput: junk). */
  junk: [];
  /**
   * The server broke the protocol (ServerOutput: sustained junk, a batch, a line over
   * maxMessageBytes, nesting too deep): every request of the client has failed with `error`, the
   * rest of stdout is ignored and the process is being stopped. Emitted once.
   */
  protocol_error: [error: McpmuxError];
  exit: [info: ExitInfo];
}

export class MCPClient extends EventEmitter<MCPClientEvents> {
  readonly service: MCPService;
  readonly sessionId: string;
  readonly #options: MCPClientOptions;
  readonly #log: Logger;
  readonly #pending = new PendingRequests();
  readonly #idPrefix = `mcpmux-${randomBytes(4).toString('hex')}-`;
  #nextId = 0;
  #state: ClientState = 'idle';
  #child: ManagedChild | undefined;
  #initializeResult: unknown;
  #stopping: Promise<ExitInfo> | undefined;

  constructor(service: MCPService, options: MCPClientOptions) {
    super();
    this.service = service;
    this.sessionId = options.sessionId ?? uuidv4();
    this.#options = options;
    this.#log = (options.logger ?? silentLogger()).child({
      service: service.name,
      session: this.sessionId,
    });
  }

  get state(): ClientState {
    return this.#state;
  }
  get pid(): number | undefined {
    return this.#child?.pid;
  }
  get exitInfo(): ExitInfo | undefined {
    return this.#child?.exitInfo;
  }
  /** The server's answer to initialize, when this client sent it itself. */
  get initializeResult(): unknown {
    return this.#initializeResult;
  }
  /** Bytes written to the server's stdin that it has not read yet. */
  get stdinBufferedBytes(): number {
    return this.#child?.stdinBufferedBytes ?? 0;
  }
  /** Requests made with request() still waiting for their answer. */
  get pendingCount(): number {
    return this.#pending.size;
  }
  /** Resolves when the process has exited. */
  get exited(): Promise<ExitInfo> {
    if (this.#child === undefined) throw new Error('MCPClient not started');
    return this.#child.exited;
  }

  /** Spawns the server; with `initialize` also performs the MCP handshake. Call once. */
  async start(options: StartOptions = {}): Promise<void> {
    if (this.#state !== 'idle') throw new Error(`MCPClient.start() in state ${this.#state}`);
    this.#state = 'starting';
    const { plan, sessionDir, release } = prepareSpawn(
      this.service.config,
      `${this.service.name}-${this.sessionId}`,
      {
        host: this.#options.host ?? hostInfo(),
        sandboxDir: this.#options.sandboxDir,
        uids: this.#options.uids,
        hide: this.#options.hide,
      },
    );
    const child = new ManagedChild({
      plan,
      sessionDir,
      onGone: release,
      ...(this.#options.stopGraceMs !== undefined && { stopGraceMs: this.#options.stopGraceMs }),
    });
    this.#child = child;
    this.#wire(child);
    try {
      child.start();
    } catch (err) {
      this.#state = 'exited';
      throw err;
    }
    this.#log.info(
      { pid: child.pid, command: plan.command, isolation: plan.isolation },
      'process started',
    );
    this.#state = 'running';
    if (options.initialize !== undefined && options.initialize !== false) {
      await this.initialize(options.initialize === true ? undefined : options.initialize, options);
    }
  }

  /** initialize + notifications/initialized; remembers the result. */
  async initialize(
    params?: Record<string, unknown>,
    options: RequestOptions = {},
  ): Promise<unknown> {
    const info = this.#options.clientInfo ?? { name: 'mcpmux', version: '0.1.0' };
    const result = await this.request(
      'initialize',
      params ?? { protocolVersion: PROTOCOL_VERSION, capabilities: {}, clientInfo: info },
      options,
    );
    this.#initializeResult = result;
    this.notify('notifications/initialized');
    return result;
  }

  /**
   * A fresh id in the relay's own namespace (`mcpmux-<random>-<n>`): for request() and for the
   * requests a session makes itself (the REST API's calls), so neither can meet the other's ids.
   */
  nextRequestId(): string {
    return `${this.#idPrefix}${this.#nextId++}`;
  }

  /** Sends a request in the client's own id namespace and resolves with its result. */
  request(method: string, params?: unknown, options: RequestOptions = {}): Promise<unknown> {
    const exit = this.#child?.exitInfo;
    if (this.#state !== 'running' || exit !== undefined) {
      return Promise.reject(
        exit !== undefined
          ? exitError(exit)
          : new McpmuxError('session_closed', `cannot send ${method}: client is ${this.#state}`),
      );
    }
    const id = this.nextRequestId();
    let sendParams = params;
    if (options.onProgress !== undefined) {
      const base = (params ?? {}) as Record<string, unknown>;
      const meta = (base._meta ?? {}) as Record<string, unknown>;
      sendParams = { ...base, _meta: { ...meta, progressToken: id } };
    }
    const message: JsonRpcRequest = { jsonrpc: '2.0', id, method };
    if (sendParams !== undefined) message.params = sendParams as Record<string, unknown>;
    // Serialised before the request is registered: a value JSON.stringify refuses (too deep, a
    // cycle, a BigInt) fails this call alone, with nothing left pending to time out later.
    let line: string;
    try {
      line = JSON.stringify(message);
    } catch (err) {
      const detail = `cannot serialise ${method}: ${(err as Error).message}`;
      return Promise.reject(new McpmuxError('invalid_request', detail, {}, { cause: err }));
    }
    const promise = this.#pending.add(id, method, {
      timeoutMs: options.timeoutMs ?? this.service.requestTimeoutMs,
      signal: options.signal,
      onProgress: options.onProgress,
      onGiveUp: (gaveUp, reason) =>
        this.notify('notifications/cancelled', { requestId: gaveUp, reason }),
    });
    this.sendRaw(line);
    return promise;
  }

  /** Alias of request(), the seed's name. */
  callMethod(method: string, params?: unknown, options?: RequestOptions): Promise<unknown> {
    return this.request(method, params, options);
  }

  notify(method: string, params?: unknown): void {
    const message: JsonRpcNotification = { jsonrpc: '2.0', method };
    if (params !== undefined) message.params = params as Record<string, unknown>;
    this.sendRaw(JSON.stringify(message));
  }

  /** Answers a server→client request. */
  respond(id: JsonRpcId, outcome: { result: unknown } | { error: JsonRpcErrorBody }): void {
    this.sendRaw(JSON.stringify({ jsonrpc: '2.0', id, ...outcome }));
  }

  /** Writes one already-serialised message (no newline inside). False: stdin is full. */
  sendRaw(line: string): boolean {
    const child = this.#child;
    if (child === undefined || this.#state === 'exited') return true;
    return child.write(line + '\n');
  }

  /** Resolves when the server's stdin can take more. */
  drain(): Promise<void> {
    return this.#child?.drain() ?? Promise.resolve();
  }

  async callTool(name: string, args: Record<string, unknown> = {}, options?: RequestOptions) {
    return (await this.request('tools/call', { name, arguments: args }, options)) as Record<
      string,
      unknown
    >;
  }

  /** Every tool the server lists, following nextCursor. */
  listTools(options?: RequestOptions): Promise<Tool[]> {
    return listAllTools((params) => this.request('tools/list', params, options));
  }

  /** Stops reading stdout (the consumer is congested); the server blocks once its pipe fills. */
  pauseOutput(): void {
    this.#child?.pauseStdout();
  }
  resumeOutput(): void {
    this.#child?.resumeStdout();
  }

  /** stdin EOF → grace → SIGTERM to the group → grace → SIGKILL. Idempotent. */
  stop(): Promise<ExitInfo> {
    if (this.#stopping !== undefined) return this.#stopping;
    const child = this.#child;
    if (child === undefined) {
      this.#state = 'exited';
      this.#stopping = Promise.resolve({
        code: null,
        signal: null,
        requested: true,
        stderrTail: [],
      });
      return this.#stopping;
    }
    if (this.#state !== 'exited') this.#state = 'stopping';
    this.#pending.rejectAll(new McpmuxError('session_closed', 'the session is stopping'));
    this.#stopping = child.stop();
    return this.#stopping;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }

  #wire(child: ManagedChild): void {
    const output = new ServerOutput({
      maxLineBytes: this.#options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES,
      log: this.#log,
      onMessage: (decoded, line) => this.#route(decoded, line),
      onJunk: () => this.emit('junk'),
      onFatal: (err) => this.#protocolError(err),
    });
    child.on('stdout', (chunk) => output.push(chunk));
    const stderrLog = new StderrLog(this.#log.child({ component: 'stderr' }));
    child.on('stderr', (line) => {
      stderrLog.line(line);
      if (this.listenerCount('stderr') === 0) return;
      try {
        this.emit('stderr', line);
      } catch (err) {
        this.#log.error({ err }, 'a stderr listener threw');
      }
    });
    child.once('exit', (info) => {
      output.end();
      stderrLog.flush();
      this.#state = 'exited';
      this.#pending.rejectAll(
        info.requested
          ? new McpmuxError('session_closed', 'the session was stopped')
          : exitError(info),
      );
      const level = info.requested ? 'info' : 'warn';
      this.#log[level]({ code: info.code, signal: info.signal }, 'process exited');
      this.emit('exit', info);
    });
  }

  /** One valid message from the server (inside ServerOutput: a throw is a protocol error). */
  #route(decoded: Classified, line: string): void {
    switch (decoded.kind) {
      case 'response':
        if (!this.#pending.resolve(decoded.message)) this.emit('response', decoded.message, line);
        return;
      case 'notification': {
        const m = decoded.message;
        if (m.method === 'notifications/progress' && this.#pending.progress(m.params)) return;
        this.emit('notification', m, line);
        return;
      }
      case 'request':
        if (this.listenerCount('request') > 0) this.emit('request', decoded.message, line);
        else this.#answerUnattended(decoded.message);
        return;
    }
  }

  #answerUnattended(request: JsonRpcRequest): void {
    if (request.method === 'ping') return this.respond(request.id, { result: {} });
    this.respond(request.id, {
      error: { code: -32601, message: `no client is attached to answer ${request.method}` },
    });
  }

  /** The server broke the protocol: fail every request, tell the session, stop the process. */
  #protocolError(err: McpmuxError): void {
    this.#log.warn(
      { problem: err.data.problem, detail: err.message },
      'server protocol error: stopping the process',
    );
    this.#child?.pauseStdout();
    this.#pending.rejectAll(err);
    this.stop().catch((stopErr: unknown) =>
      this.#log.error({ err: stopErr }, 'stopping the process failed'),
    );
    this.emit('protocol_error', err);
  }
}
