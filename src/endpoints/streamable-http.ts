// POST / GET / DELETE /mcp/{service}: the MCP Streamable HTTP transport (2025-11-25; 2025-06-18 and
// 2025-03-26 clients too) on the path whose WebSocket upgrade serves the same service
// (docs/protocol.md, "Streamable HTTP"). One Mcp-Session-Id = one Session = one process, opened
// the one way (openSession) by an initialize sent without the header; the id is the session's
// secret resume token, never the listed session id. The access layer (Host, Origin, auth, rate
// limit, JSON body type) runs before these handlers, as for every route.
//   POST  one JSON-RPC message (no batches): a request → SSE when Accept lists text/event-stream,
//         else JSON; a notification or response → 202. initialize answers with Mcp-Session-Id.
//   GET   the standalone SSE stream (one at a time: 409), or with Last-Event-ID the replay of
//         the stream that id names (then its live remainder).
//   DELETE ends the session and stops its process (204).
// Missing Mcp-Session-Id → 400; unknown or ended session → 404; an MCP-Protocol-Version not
// served, or a 2026-07-28 request (server/discover) → 400 naming the revisions served.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { McpmuxError, REASONS, errorResponse } from '../errors.js';
import { decodeMessage } from '../jsonrpc/codec.js';
import type { Classified, JsonRpcId } from '../jsonrpc/types.js';
import type { Logger } from '../log.js';
import { readBody, refusalHeaders, sendText } from '../http/http-server.js';
import {
  acceptsEventStream,
  answerFormat,
  missingSessionId,
  primes,
  requestVersion,
  statelessMethodError,
} from '../http/mcp-http.js';
import type { Router } from '../http/routes.js';
import { parseEventId } from '../http/sse.js';
import { STANDALONE } from '../http/stream-router.js';
import { abandonOpened, openSession } from '../sessions/session-opener.js';
import type { Session } from '../sessions/session.js';
import type { SessionRegistry } from '../sessions/session-registry.js';
import { HttpSession } from './http-session.js';

export interface StreamableHttpDeps {
  registry: SessionRegistry;
  logger: Logger;
  /** server.max_message_bytes: the largest POST body. */
  maxBodyBytes: number;
  /** session.max_resume_buffer_bytes: the replay log of each session. */
  logBytes: number;
  /** session.max_buffered_bytes: unsent bytes one SSE connection may hold before it is dropped. */
  maxBufferedBytes: number;
  /** server.heartbeat_interval in ms: keep-alive comments on SSE connections (0 = none). */
  heartbeatMs: number;
}

const PATTERN = /^\/mcp\/([^/]+)\/?$/;
const NAME = '/mcp/{service}';

/** Answers with a JSON-RPC error (with `id` when known) and the reason's HTTP status. */
function sendRpcError(res: ServerResponse, err: McpmuxError, id?: JsonRpcId): void {
  const status = REASONS[err.reason].httpStatus;
  sendText(res, status, errorResponse(id, err), 'application/json', refusalHeaders(err));
}

function header(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

type RequestMessage = Classified & { kind: 'request' };

export class StreamableHttp {
  readonly #d: StreamableHttpDeps;
  readonly #sessions = new WeakMap<Session, HttpSession>();

  constructor(deps: StreamableHttpDeps) {
    this.#d = deps;
  }

  addRoutes(router: Router): void {
    router.add({ method: 'POST', name: NAME, pattern: PATTERN, handler: this.#post });
    router.add({ method: 'GET', name: NAME, pattern: PATTERN, handler: this.#get });
    router.add({ method: 'DELETE', name: NAME, pattern: PATTERN, handler: this.#delete });
  }

  /** The live HTTP session `id` names on `service`, if any. */
  find(id: string, service: string): HttpSession | undefined {
    const session = this.#d.registry.byToken(id);
    if (session?.serviceName !== service) return undefined;
    if (session.state === 'closing' || session.state === 'closed') return undefined;
    const hs = this.#sessions.get(session);
    return hs === undefined || hs.ended ? undefined : hs;
  }

  readonly #post = async (
    req: IncomingMessage,
    res: ServerResponse,
    _url: URL,
    [service]: string[],
  ): Promise<void> => {
    const version = requestVersion(req.headers['mcp-protocol-version']);
    if (version instanceof McpmuxError) return sendRpcError(res, version);
    const raw = await readBody(req, this.#d.maxBodyBytes);
    if (raw === undefined) {
      const limit = this.#d.maxBodyBytes;
      res.setHeader('connection', 'close');
      const err = new McpmuxError('message_too_large', `the body is over ${limit} bytes`);
      return sendRpcError(res, err);
    }
    const text = raw.toString('utf8');
    const decoded = decodeMessage(text);
    if (decoded.kind === 'invalid') {
      const message =
        decoded.problem === 'batch'
          ? 'batches are not accepted: send one JSON-RPC message per POST'
          : decoded.detail;
      return sendRpcError(res, new McpmuxError(decoded.reason, message), decoded.id);
    }
    const sessionId = header(req, 'mcp-session-id');
    if (decoded.kind === 'request') {
      const { id, method } = decoded.message;
      const stateless = statelessMethodError(method);
      if (stateless !== undefined) return sendRpcError(res, stateless, id);
      if (method === 'initialize') {
        if (sessionId === undefined) return this.#initialize(req, res, service!, decoded, text);
        const why = 'initialize opens a new session: send it without Mcp-Session-Id';
        return sendRpcError(res, new McpmuxError('invalid_request', why), id);
      }
    }
    if (sessionId === undefined) return sendRpcError(res, missingSessionId());
    const hs = this.find(sessionId, service!);
    if (hs === undefined) return sendRpcError(res, unknownSession());
    if (decoded.kind !== 'request') {
      hs.session.handle(decoded, text);
      if (decoded.kind === 'notification' && decoded.message.method === 'notifications/cancelled') {
        const params = decoded.message.params as { requestId?: unknown } | undefined;
        const target = params?.requestId;
        if (typeof target === 'string' || typeof target === 'number') hs.cancelled(target);
      }
      res.writeHead(202, { 'content-length': '0' });
      res.end();
      return;
    }
    this.#request(hs, req, res, decoded, text, {}, hs.primes(version));
  };

  async #initialize(
    req: IncomingMessage,
    res: ServerResponse,
    service: string,
    decoded: RequestMessage,
    text: string,
  ): Promise<void> {
    if (answerFormat(req.headers.accept) === undefined) {
      return sendRpcError(res, notAcceptable(), decoded.message.id);
    }
    const opened = await openSession(this.#d.registry, service, undefined, 'http');
    if (!opened.ok) return sendRpcError(res, opened.error, decoded.message.id);
    if (res.destroyed || req.socket.destroyed) {
      abandonOpened(opened); // the client went away while its process started
      return;
    }
    const { session } = opened;
    const hs = new HttpSession(session, {
      logBytes: this.#d.logBytes,
      maxBufferedBytes: this.#d.maxBufferedBytes,
      heartbeatMs: this.#d.heartbeatMs,
      logger: this.#d.logger,
      onEnded: () => this.#sessions.delete(session),
    });
    this.#sessions.set(session, hs);
    session.attach(hs);
    const token = this.#d.registry.resumeToken(session);
    const params = decoded.message.params as { protocolVersion?: unknown } | undefined;
    const asked = req.headers['mcp-protocol-version'] ?? params?.protocolVersion;
    const priming = typeof asked === 'string' && primes(asked);
    this.#request(hs, req, res, decoded, text, { 'mcp-session-id': token }, priming);
  }

  #request(
    hs: HttpSession,
    req: IncomingMessage,
    res: ServerResponse,
    decoded: RequestMessage,
    text: string,
    headers: Record<string, string>,
    priming: boolean,
  ): void {
    const { id } = decoded.message;
    const format = answerFormat(req.headers.accept);
    if (format === undefined) return sendRpcError(res, notAcceptable(), id);
    if (hs.router.has(id)) {
      const why = `id ${JSON.stringify(id)} is already in use`;
      return sendRpcError(res, new McpmuxError('invalid_request', why), id);
    }
    hs.post([{ decoded, text }], res, format, headers, priming);
  }

  readonly #get = (req: IncomingMessage, res: ServerResponse, _u: URL, [service]: string[]) => {
    if (req.method === 'HEAD') {
      // A HEAD would open the GET stream and swallow its messages: there is nothing to HEAD.
      const why = 'HEAD is not served on an MCP endpoint: GET opens its event stream';
      return sendRpcError(res, new McpmuxError('method_not_allowed', why));
    }
    const version = requestVersion(req.headers['mcp-protocol-version']);
    if (version instanceof McpmuxError) return sendRpcError(res, version);
    if (!acceptsEventStream(req.headers.accept)) return sendRpcError(res, notAcceptable());
    const sessionId = header(req, 'mcp-session-id');
    if (sessionId === undefined) return sendRpcError(res, missingSessionId());
    const hs = this.find(sessionId, service!);
    if (hs === undefined) return sendRpcError(res, unknownSession());
    const lastEventId = header(req, 'last-event-id');
    const from = parseEventId(lastEventId);
    if (lastEventId !== undefined && from === undefined) {
      const why = 'Last-Event-ID is not an event id this relay issued';
      return sendRpcError(res, new McpmuxError('bad_input', why));
    }
    if (from === undefined && hs.hasStandalone) {
      const why = 'this session already has its GET stream open (resume it with Last-Event-ID)';
      return sendRpcError(res, new McpmuxError('stream_conflict', why));
    }
    const stream = from?.stream ?? STANDALONE;
    if (!hs.openStream(res, stream, from?.seq, hs.primes(version))) {
      const why = `stream ${stream} has ended and nothing of it is left to replay`;
      return sendRpcError(res, new McpmuxError('not_found', why));
    }
  };

  readonly #delete = async (
    req: IncomingMessage,
    res: ServerResponse,
    _url: URL,
    [service]: string[],
  ): Promise<void> => {
    const sessionId = header(req, 'mcp-session-id');
    if (sessionId === undefined) return sendRpcError(res, missingSessionId());
    const hs = this.find(sessionId, service!);
    if (hs === undefined) return sendRpcError(res, unknownSession());
    await hs.end();
    res.writeHead(204);
    res.end();
  };
}

function unknownSession(): McpmuxError {
  return new McpmuxError(
    'unknown_session',
    'no live session has that Mcp-Session-Id (it ended or never existed): send initialize again',
  );
}

function notAcceptable(): McpmuxError {
  return new McpmuxError(
    'not_acceptable',
    'Accept must allow application/json or text/event-stream (GET: text/event-stream)',
  );
}
