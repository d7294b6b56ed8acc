// The HTTP side of the relay: one node:http (or https) server on one port. Plain requests go to
// the route table; upgrades to /mcp/{service} and /ws become WebSockets (ws, noServer mode).

import {
  createServer as createPlainServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { readFileSync } from 'node:fs';
import type { Socket } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Config } from '../config/types.js';
import { McpmuxError, REASONS, type Reason } from '../errors.js';

export const MCP_SUBPROTOCOL = 'mcp';

export type UpgradeTarget =
  { kind: 'direct'; service: string; resumeId: string | undefined } | { kind: 'mux' };

export interface HttpHandlers {
  /** Plain HTTP requests. */
  request(req: IncomingMessage, res: ServerResponse, url: URL): void;
  /** Decides whether an upgrade may proceed; throws a McpmuxError to refuse it. */
  checkUpgrade(req: IncomingMessage, target: UpgradeTarget): void;
  /**
   * Work done before the upgrade completes (a direct connection's session); its result is
   * passed to connection(). `headers` are added to the 101 response.
   */
  prepare(target: UpgradeTarget): Promise<{ context: unknown; headers: string[] }>;
  /** The upgrade did not complete after prepare() (the client went away): undo it. */
  abandon(context: unknown): void;
  /** A WebSocket is open. */
  connection(ws: WebSocket, socket: Socket, target: UpgradeTarget, context: unknown): void;
}

type UpgradeRequest = IncomingMessage & { mcpmuxTarget?: UpgradeTarget; mcpmuxHeaders?: string[] };

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
    'x-content-type-options': 'nosniff',
    ...headers,
  });
  res.end(text);
}

export function sendError(
  res: ServerResponse,
  reason: Reason,
  message: string,
  headers: Record<string, string> = {},
): void {
  sendJson(res, REASONS[reason].httpStatus, { error: message, reason }, headers);
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
  return { kind: 'direct', service, resumeId: url.searchParams.get('session') ?? undefined };
}

function refuseUpgrade(
  socket: Socket,
  status: number,
  reason: string,
  message: string,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify({ error: message, reason });
  const lines = [
    `HTTP/1.1 ${status} ${status === 404 ? 'Not Found' : status === 401 ? 'Unauthorized' : status === 403 ? 'Forbidden' : 'Error'}`,
    'Connection: close',
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
  ];
  socket.end(`${lines.join('\r\n')}\r\n\r\n${body}`);
}

export function createHttpServer(
  config: Config,
  handlers: HttpHandlers,
): { server: Server; wss: WebSocketServer } {
  const { tls } = config.server;
  const onRequest = (req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://relay');
    handlers.request(req, res, url);
  };
  const server: Server =
    tls.cert !== '' && tls.key !== ''
      ? createHttpsServer({ cert: readFileSync(tls.cert), key: readFileSync(tls.key) }, onRequest)
      : createPlainServer(onRequest);
  server.keepAliveTimeout = 65_000;

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
    const url = new URL(req.url ?? '/', 'http://relay');
    const target = upgradeTarget(url);
    if (target === undefined) {
      refuseUpgrade(socket, 404, 'not_found', `no WebSocket endpoint at ${url.pathname}`);
      return;
    }
    try {
      handlers.checkUpgrade(req, target);
    } catch (err) {
      const e = err instanceof McpmuxError ? err : new McpmuxError('internal_error');
      const headers: Record<string, string> =
        e.reason === 'unauthorized' ? { 'WWW-Authenticate': 'Basic realm="mcpmux", Bearer' } : {};
      refuseUpgrade(socket, REASONS[e.reason].httpStatus, e.reason, e.message, headers);
      return;
    }
    (req as UpgradeRequest).mcpmuxTarget = target;
    void handlers.prepare(target).then(({ context, headers }) => {
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
        handlers.connection(ws, socket, target, context);
      });
    });
  });
  wss.on('headers', (headers, req) => {
    const extra = (req as UpgradeRequest).mcpmuxHeaders;
    if (extra !== undefined) headers.push(...extra);
  });

  return { server, wss };
}
