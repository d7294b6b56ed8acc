// The HTTP side of the relay: one node:http (or https) server on one port. Plain requests go to
// the route table; upgrades to /mcp/{service} and /ws become WebSockets (ws, noServer mode) once
// checkUpgrade (auth, Origin, limits) has let them through: a refusal is an HTTP answer, before
// any WebSocket exists.

import {
  STATUS_CODES,
  createServer as createPlainServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import { startHeartbeat } from './heartbeat.js';
import type { Config } from '../config/types.js';
import { McpmuxError, REASONS, type Reason } from '../errors.js';
import { httpTimeouts, reasonOnOversize } from './http-limits.js';
import { isResumeReplay, type ResumeReplay } from '../channel/envelope.js';

export const MCP_SUBPROTOCOL = 'mcp';

export type UpgradeTarget =
  | { kind: 'direct'; service: string; resumeId: string | undefined; replay?: ResumeReplay }
  | { kind: 'mux' };

/** A refusal of a request or an upgrade, with the headers its status needs (401, 429). */
export class HttpRefusal extends McpmuxError {
  readonly headers: Readonly<Record<string, string>>;

  constructor(
    reason: Reason,
    message: string,
    headers: Record<string, string>,
    data: Record<string, unknown> = {},
  ) {
    super(reason, message, data);
    this.headers = headers;
  }
}

/** Headers an error answer carries: a refusal's own, Retry-After for a retry hint. */
export function refusalHeaders(err: McpmuxError): Record<string, string> {
  if (err instanceof HttpRefusal) return { ...err.headers };
  const retryMs = err.data.retry_after_ms;
  return typeof retryMs === 'number' ? { 'retry-after': String(Math.ceil(retryMs / 1000)) } : {};
}

/**
 * `C` is what prepare() makes before an upgrade completes (a direct connection's session) and
 * connection() or abandon() receives.
 */
export interface HttpHandlers<C = unknown> {
  /** Plain HTTP requests. */
  request(req: IncomingMessage, res: ServerResponse, url: URL): void;
  /** Decides whether an upgrade may proceed; throws a McpmuxError to refuse it. */
  checkUpgrade(req: IncomingMessage, target: UpgradeTarget, url: URL): void;
  /**
   * Work done before the upgrade completes (a direct connection's session); its result is
   * passed to connection(). `headers` are added to the 101 response.
   */
  prepare(target: UpgradeTarget): Promise<{ context: C; headers: string[] }>;
  /** The upgrade did not complete after prepare() (the client went away): undo it. */
  abandon(context: C): void;
  /** A WebSocket is open. */
  connection(
    ws: WebSocket,
    socket: Socket,
    target: UpgradeTarget,
    context: C,
    req: IncomingMessage,
  ): void;
  /** Every accepted TCP connection (metrics count its bytes). */
  socket?(socket: Socket): void;
  /**
   * Asked first for every accepted TCP connection (the per-address cap): an error closes it at
   * once, after a best-effort HTTP answer with the error's status and reason.
   */
  admitSocket?(socket: Socket): McpmuxError | undefined;
  /**
   * A connection became a WebSocket: it stops counting as a plain-HTTP connection (a refused or
   * pending upgrade still counts until its socket closes).
   */
  upgrading?(socket: Socket): void;
}

type UpgradeRequest = IncomingMessage & { mcpmuxTarget?: UpgradeTarget; mcpmuxHeaders?: string[] };

/** Sent with every JSON answer: nothing here is meant to be rendered, framed or cached. */
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'none'; frame-ancestors 'none'",
  'cache-control': 'no-store',
} as const;

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  sendText(res, status, JSON.stringify(body), 'application/json; charset=utf-8', headers);
}

export function sendText(
  res: ServerResponse,
  status: number,
  text: string,
  contentType: string,
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, {
    'content-type': contentType,
    'content-length': Buffer.byteLength(text),
    ...SECURITY_HEADERS,
    ...headers,
  });
  res.end(text);
}

export function sendError(
  res: ServerResponse,
  reason: Reason,
  message: string,
  headers: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): void {
  sendJson(res, REASONS[reason].httpStatus, { error: message, reason, ...extra }, headers);
}

/**
 * Answers with a relay error: its reason's status, `{error, reason}` (plus `retry_after_ms` when it
 * has one, and `more`), and its headers.
 */
export function sendMcpmuxError(
  res: ServerResponse,
  err: McpmuxError,
  more: Record<string, unknown> = {},
): void {
  const retryMs = err.data.retry_after_ms;
  const extra = typeof retryMs === 'number' ? { retry_after_ms: retryMs, ...more } : more;
  sendError(res, err.reason, err.message, refusalHeaders(err), extra);
}

/**
 * Reads a request body of at most `maxBytes`. Resolves undefined when it is larger: then nothing
 * more is read (a declared Content-Length over the limit is refused before reading anything).
 */
export function readBody(req: IncomingMessage, maxBytes: number): Promise<Buffer | undefined> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > maxBytes) {
        cleanup();
        req.pause();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    };
    const onEnd = () => {
      cleanup();
      resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size));
    };
    const onError = (err: Error) => {
      cleanup();
      reject(err);
    };
    const cleanup = () => {
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('error', onError);
    };
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('error', onError);
  });
}

/** Parses an upgrade path into what it asks for, or undefined (→ 404). */
export function upgradeTarget(url: URL): UpgradeTarget | undefined {
  if (url.pathname === '/ws') return { kind: 'mux' };
  const m = /^\/mcp\/([^/]+)\/?$/.exec(url.pathname);
  if (m === null) return undefined;
  let service: string;
  try {
    service = decodeURIComponent(m[1]!);
  } catch {
    return undefined;
  }
  const resumeId = url.searchParams.get('resume') ?? undefined;
  const replay = url.searchParams.get('replay');
  return isResumeReplay(replay)
    ? { kind: 'direct', service, resumeId, replay }
    : { kind: 'direct', service, resumeId };
}

function refuseUpgrade(
  socket: Socket,
  status: number,
  reason: string,
  message: string,
  headers: Record<string, string> = {},
  extra: Record<string, unknown> = {},
): void {
  const body = JSON.stringify({ error: message, reason, ...extra });
  const lines = [
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Error'}`,
    'Connection: close',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

export function createHttpServer<C>(
  config: Config,
  handlers: HttpHandlers<C>,
): { server: Server; wss: WebSocketServer } {
  const { tls } = config.server;
  if ((tls.cert === '') !== (tls.key === '')) {
    throw new Error('server.tls.cert and server.tls.key must be set together (or both left empty)');
  }
  const secure = tls.cert !== '';
  const timeouts = httpTimeouts(config.server);
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    if (secure) res.setHeader('strict-transport-security', 'max-age=31536000');
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://relay');
    } catch {
      sendError(res, 'bad_input', 'malformed request target');
      return;
    }
    handlers.request(req, res, url);
  };
  const server: Server = secure
    ? createHttpsServer(
        { cert: readFileSync(tls.cert), key: readFileSync(tls.key), ...timeouts },
        onRequest,
      )
    : createPlainServer(timeouts, onRequest);
  server.keepAliveTimeout = 65_000;
  // With TLS, 'connection' is the raw TCP socket: the cap applies before any handshake.
  server.on('connection', (socket: Socket) => {
    const refused = handlers.admitSocket?.(socket);
    if (refused !== undefined) {
      if (secure) {
        socket.destroy(); // no TLS session yet to answer in
        return;
      }
      socket.on('error', () => socket.destroy());
      const status = REASONS[refused.reason].httpStatus;
      refuseUpgrade(socket, status, refused.reason, refused.message);
      socket.once('finish', () => socket.destroy());
      return;
    }
    handlers.socket?.(socket);
  });

  const wss = new WebSocketServer({
    noServer: true,
    maxPayload: config.server.max_message_bytes,
    perMessageDeflate: false,
    clientTracking: false,
    handleProtocols: (protocols, req) => {
      const wanted =
        (req as IncomingMessage & { mcpmuxTarget?: UpgradeTarget }).mcpmuxTarget?.kind === 'mux'
          ? 'mcpmux.v1'
          : MCP_SUBPROTOCOL;
      return protocols.has(wanted) ? wanted : false;
    },
  });

  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'http://relay');
    } catch {
      refuseUpgrade(socket, 400, 'bad_input', 'malformed request target');
      return;
    }
    const target = upgradeTarget(url);
    if (target === undefined) {
      refuseUpgrade(socket, 404, 'not_found', `no WebSocket endpoint at ${url.pathname}`);
      return;
    }
    if (target.kind === 'direct' && url.searchParams.has('session')) {
      // Only the secret resume token resumes; a session id is listed by GET /sessions.
      const why = 'a session id cannot resume: pass the resume token as ?resume=';
      refuseUpgrade(socket, 400, 'bad_input', why);
      return;
    }
    if (target.kind === 'direct' && url.searchParams.has('replay') && target.replay === undefined) {
      refuseUpgrade(socket, 400, 'bad_input', '?replay= must be "now" or "hold"');
      return;
    }
    try {
      handlers.checkUpgrade(req, target, url);
    } catch (err) {
      const e = err instanceof McpmuxError ? err : new McpmuxError('internal_error');
      const status = REASONS[e.reason].httpStatus;
      const retryMs = e.data.retry_after_ms;
      const extra = typeof retryMs === 'number' ? { retry_after_ms: retryMs } : {};
      refuseUpgrade(socket, status, e.reason, e.message, refusalHeaders(e), extra);
      return;
    }
    (req as UpgradeRequest).mcpmuxTarget = target;
    const prepareFailed = () => {
      if (!socket.destroyed) refuseUpgrade(socket, 500, 'internal_error', 'internal relay error');
    };
    handlers
      .prepare(target)
      .then(({ context, headers }) => {
        if (socket.destroyed) {
          handlers.abandon(context);
          return;
        }
        (req as UpgradeRequest).mcpmuxHeaders = headers;
        let completed = false;
        socket.once('close', () => {
          if (!completed) handlers.abandon(context);
        });
        wss.handleUpgrade(req, socket, head, (ws) => {
          completed = true;
          handlers.upgrading?.(socket);
          reasonOnOversize(ws, config.server.max_message_bytes);
          startHeartbeat(ws, config.server.heartbeat_interval);
          handlers.connection(ws, socket, target, context, req);
        });
      }, prepareFailed)
      .catch(() => socket.destroy()); // a fault completing the upgrade: that connection only
  });
  wss.on('headers', (headers, req) => {
    const extra = (req as UpgradeRequest).mcpmuxHeaders;
    if (extra !== undefined) headers.push(...extra);
  });

  return { server, wss };
}
