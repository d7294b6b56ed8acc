// The REST API (docs/operations.md, "REST sessions"): a drop-in for the SignalWire MCP gateway's routes, so its mcp_gateway
// agent skill and its curl examples work unchanged, without its bugs: one session_id may use several
// services, a tool error is 200 with isError (never 500), bad input is 400 (also `metadata` over
// MAX_METADATA_BYTES), unknown things 404, a body over max_message_bytes 413, and only faults are
// 5xx. No command line or env leaves here. A call is a request the relay makes on its session
// (Session.request): the same queue, deadline, progress, cancellation and metrics as a WebSocket
// client's request (docs/protocol.md, "REST calls").
//
//   GET    /services                  {name: {description, enabled, state, sessions}} (enabled ones)
//   GET    /services/{name}/tools     {service, tools}            (cached; no process per request)
//   POST   /services/{name}/call      {session_id, service, tool, result, content, isError, structuredContent?,
//                                      session_restarted?, previous_end_reason?, …}
//   GET    /sessions                  {session_id: {service_name, created_at, last_accessed, timeout,
//                                      metadata, time_remaining, transport, services}}
//   DELETE /sessions/{id}             {message}

import type { IncomingMessage, ServerResponse } from 'node:http';
import { McpmuxError, UpstreamError } from '../errors.js';
import { MAX_NESTING_DEPTH, nestsDeeperThan } from '../jsonrpc/codec.js';
import type { Logger } from '../log.js';
import type { Session } from '../sessions/session.js';
import type { SessionRegistry } from '../sessions/session-registry.js';
import type { MCPManager } from '../sessions/mcp-manager.js';
import { readBody, sendError, sendJson, sendMcpmuxError } from '../http/http-server.js';
import { SESSION_ID_PATTERN, restartFields, type RestSessions } from './rest-sessions.js';
import type { Router } from '../http/routes.js';
import type { SecurityLog } from '../http/security-log.js';

/** Largest accepted `timeout` of a call body, in seconds (SignalWire's bound). */
export const MAX_SESSION_TIMEOUT_S = 3600;

/** Largest `metadata` of a call body, as JSON in UTF-8 bytes: it is kept and listed per session. */
export const MAX_METADATA_BYTES = 16 * 1024;

export interface RestDeps {
  manager: MCPManager;
  registry: SessionRegistry;
  sessions: RestSessions;
  security: SecurityLog;
  logger: Logger;
  maxBodyBytes: number;
  clientAddress: (req: IncomingMessage) => string;
}

interface CallBody {
  tool: string;
  arguments: Record<string, unknown>;
  session_id: string;
  timeoutMs: number | undefined;
  metadata: Record<string, unknown>;
}

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** UTF-8 bytes of `value` as JSON; NaN when it cannot be serialised (too deep). */
function jsonBytes(value: unknown): number {
  try {
    return Buffer.byteLength(JSON.stringify(value));
  } catch {
    return NaN;
  }
}

/** Validates a call body: the parsed body, or what is wrong with it. */
export function parseCallBody(value: unknown): CallBody | string {
  if (!isRecord(value)) return 'the body must be a JSON object';
  const { tool, session_id: sessionId, timeout } = value;
  const args = value.arguments ?? {};
  const metadata = value.metadata ?? {};
  if (tool === undefined) return "missing 'tool'";
  if (typeof tool !== 'string' || tool === '' || tool.length > 1024) {
    return "'tool' must be a non-empty string";
  }
  if (sessionId === undefined) return "missing 'session_id'";
  if (typeof sessionId !== 'string' || !SESSION_ID_PATTERN.test(sessionId)) {
    return "'session_id' must be 1-128 characters of A-Z a-z 0-9 _ . : -";
  }
  if (!isRecord(args)) return "'arguments' must be an object";
  if (!isRecord(metadata)) return "'metadata' must be an object";
  if (!(jsonBytes(metadata) <= MAX_METADATA_BYTES)) {
    return `'metadata' must be at most ${MAX_METADATA_BYTES} bytes of JSON`;
  }
  if (
    timeout !== undefined &&
    (typeof timeout !== 'number' ||
      !Number.isFinite(timeout) ||
      timeout <= 0 ||
      timeout > MAX_SESSION_TIMEOUT_S)
  ) {
    return `'timeout' must be a number of seconds, 0 < timeout <= ${MAX_SESSION_TIMEOUT_S}`;
  }
  return {
    tool,
    arguments: args,
    session_id: sessionId,
    timeoutMs: timeout === undefined ? undefined : Math.round(timeout * 1000),
    metadata,
  };
}

/** The 200 body of a call: SignalWire's `result` (the first text) beside the whole MCP result. */
export function callResponse(
  sessionId: string,
  service: string,
  tool: string,
  result: unknown,
): Record<string, unknown> {
  const r = isRecord(result) ? result : {};
  const content = Array.isArray(r.content) ? (r.content as unknown[]) : [];
  const first = content[0];
  const text =
    isRecord(first) && first.type === 'text' && typeof first.text === 'string'
      ? first.text
      : undefined;
  const body: Record<string, unknown> = {
    session_id: sessionId,
    service,
    tool,
    result: text ?? result ?? null,
    content,
    isError: r.isError === true,
  };
  if (r.structuredContent !== undefined) body.structuredContent = r.structuredContent;
  return body;
}

/** Sends the answer for an error of a REST call or lookup (`more`: fields added to the body). */
function sendFailure(
  res: ServerResponse,
  err: unknown,
  log: Logger,
  more: Record<string, unknown> = {},
): void {
  if (err instanceof UpstreamError) {
    const extra = err.data === undefined ? { code: err.code } : { code: err.code, data: err.data };
    const reason = err.code === -32602 ? 'invalid_params' : 'upstream_error';
    sendError(res, reason, err.message, {}, { ...extra, ...more });
  } else if (err instanceof McpmuxError) {
    sendMcpmuxError(res, err, more);
  } else {
    log.error({ err }, 'REST request failed');
    sendError(res, 'internal_error', 'internal relay error');
  }
}

const iso = (ms: number) => new Date(ms).toISOString();
const seconds = (ms: number) => Math.round(ms) / 1000;

function sessionTimes(session: Session | undefined, createdAt: number, timeoutMs: number) {
  const lastAccessed = session?.lastActivity ?? createdAt;
  return {
    created_at: iso(createdAt),
    last_accessed: iso(lastAccessed),
    timeout: seconds(timeoutMs),
    time_remaining: Math.max(0, seconds(timeoutMs - (Date.now() - lastAccessed))),
  };
}

export function addRestRoutes(router: Router, deps: RestDeps): void {
  const { manager, registry, sessions, security, logger } = deps;

  router
    .add({
      method: 'GET',
      name: '/services',
      pattern: /^\/services\/?$/,
      handler: (_req, res) => {
        const counts = new Map<string, number>();
        for (const s of registry.all())
          counts.set(s.serviceName, (counts.get(s.serviceName) ?? 0) + 1);
        const body: Record<string, unknown> = {};
        for (const [name, service] of manager.services) {
          if (!service.enabled) continue; // as the gateway, which does not load them
          const n = counts.get(name) ?? 0;
          body[name] = {
            description: service.description,
            enabled: true,
            state: n > 0 ? 'active' : 'idle',
            sessions: n,
          };
        }
        sendJson(res, 200, body);
      },
    })
    .add({
      method: 'GET',
      name: '/services/{name}/tools',
      pattern: /^\/services\/([^/]+)\/tools\/?$/,
      handler: async (_req, res, _url, [name]) => {
        try {
          const tools = await manager.getServiceTools(name!);
          sendJson(res, 200, { service: name, tools });
        } catch (err) {
          sendFailure(res, err, logger);
        }
      },
    })
    .add({
      method: 'POST',
      name: '/services/{name}/call',
      pattern: /^\/services\/([^/]+)\/call\/?$/,
      handler: async (req, res, _url, [name]) => {
        const service = name!;
        try {
          manager.getService(service);
        } catch (err) {
          sendFailure(res, err, logger);
          return;
        }
        const raw = await readBody(req, deps.maxBodyBytes);
        if (raw === undefined) {
          security.event('body_too_large', { ip: deps.clientAddress(req), path: req.url ?? '' });
          sendError(
            res,
            'message_too_large',
            `the body is larger than ${deps.maxBodyBytes} bytes`,
            {
              connection: 'close',
            },
          );
          return;
        }
        let value: unknown;
        try {
          value = JSON.parse(raw.toString('utf8'));
        } catch (err) {
          sendError(res, 'parse_error', `the body is not JSON: ${(err as Error).message}`);
          return;
        }
        if (nestsDeeperThan(value, MAX_NESTING_DEPTH)) {
          // Before anything serialises it: JSON.stringify throws past a few thousand levels.
          sendError(
            res,
            'invalid_request',
            `the body nests deeper than ${MAX_NESTING_DEPTH} levels`,
          );
          return;
        }
        const body = parseCallBody(value);
        if (typeof body === 'string') {
          sendError(res, 'bad_input', body);
          return;
        }
        let restarted: Record<string, unknown> = {};
        try {
          const svc = manager.getService(service);
          const { session, previous } = await sessions.open(body.session_id, service, {
            timeoutMs: body.timeoutMs ?? svc.idleTimeoutMs,
            metadata: body.metadata,
            ip: deps.clientAddress(req),
          });
          if (previous !== undefined) restarted = restartFields(previous);
          const result = await session.request(
            'tools/call',
            { name: body.tool, arguments: body.arguments },
            svc.requestTimeoutMs,
          );
          const answer = callResponse(body.session_id, service, body.tool, result);
          sendJson(res, 200, previous === undefined ? answer : { ...answer, ...restarted });
        } catch (err) {
          sendFailure(res, err, logger, restarted);
        }
      },
    })
    .add({
      method: 'GET',
      name: '/sessions',
      pattern: /^\/sessions\/?$/,
      handler: (_req, res) => sendJson(res, 200, listSessions(registry, sessions)),
    })
    .add({
      method: 'DELETE',
      name: '/sessions/{id}',
      pattern: /^\/sessions\/([^/]+)\/?$/,
      handler: (req, res, _url, [id]) => {
        const key = id!;
        const ip = deps.clientAddress(req);
        if (sessions.delete(key, ip) > 0) {
          sendJson(res, 200, { message: `Session ${key} closed` });
          return;
        }
        const ws = registry.get(key);
        if (
          ws !== undefined &&
          !sessions.owns(ws) &&
          ws.state !== 'closing' &&
          ws.state !== 'closed'
        ) {
          void ws.close('session_closed');
          security.event('session_deleted', { session_id: key, services: ws.serviceName, ip });
          sendJson(res, 200, { message: `Session ${key} closed` });
          return;
        }
        sendError(res, 'unknown_session', `Session ${key} not found`);
      },
    });
}

/**
 * GET /sessions. One entry per REST session_id: its first service's figures in SignalWire's
 * fields, and every service it uses under `services`. Other sessions are listed by their uuid with
 * the transport that opened them: `websocket` (/mcp/{service} upgrade, /ws) or `http` (Streamable
 * HTTP).
 */
export function listSessions(
  registry: SessionRegistry,
  sessions: RestSessions,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, byService] of sessions.entries()) {
    const services: Record<string, unknown> = {};
    let first: Record<string, unknown> | undefined;
    for (const entry of byService.values()) {
      if (entry.session === undefined) continue; // still starting
      const times = sessionTimes(entry.session, entry.createdAt, entry.timeoutMs);
      services[entry.service] = { session: entry.session.id, ...times };
      first ??= { service_name: entry.service, ...times, metadata: entry.metadata };
    }
    if (first !== undefined) out[key] = { ...first, transport: 'rest', services };
  }
  for (const session of registry.all()) {
    if (sessions.owns(session)) continue;
    const timeoutMs = session.client.service.idleTimeoutMs;
    const times = sessionTimes(session, session.createdAt, timeoutMs);
    out[session.id] = {
      service_name: session.serviceName,
      ...times,
      metadata: {},
      transport: session.transport,
      state: session.state,
      services: { [session.serviceName]: { session: session.id, ...times } },
    };
  }
  return out;
}
