// The load test's Streamable HTTP transport (MCP 2025-11-25): one endpoint is one MCP session of
// one virtual client. Every message is its own POST on a keep-alive connection (at most one per
// request in flight, plus one); the answer comes as JSON or as an SSE stream, either parsed here and
// handed to the channel's sink. The session id the server issues on `initialize` and the protocol
// version it answers are sent on every later request; close() ends the session with DELETE.
// A request that fails at the HTTP level is handed back as a JSON-RPC error whose data.reason says
// why (`http_<status>` or the server's own `reason`), so it is counted like any other error.

import { Agent as HttpAgent, request as httpRequest, type ClientRequest } from 'node:http';
import type { IncomingMessage, OutgoingHttpHeaders, RequestOptions } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { ChannelSink, Endpoint } from './connect.js';
import { SseParser, SseTooLarge } from './sse.js';

export interface HttpEndpointOptions {
  /** Requests the channel keeps outstanding: the connection pool is sized to it. */
  inFlight: number;
  /** A request silent for this long is abandoned (the driver counts it as `timeout`). */
  timeoutMs: number;
}

/** The most characters one answer (a JSON body, one SSE event) may hold; as the WebSocket paths. */
export const MAX_ANSWER_CHARS = 64 * 1024 * 1024;
const MAX_ERROR_BODY = 4096;
const CLOSE_WAIT_MS = 2000;
const ACCEPT = 'application/json, text/event-stream';

type Sender = (text: string, id?: number) => void;

/** Opens nothing yet: the first POST (the driver's `initialize`) starts the session. */
export function openHttpEndpoint(
  url: string,
  sink: ChannelSink,
  headers: Record<string, string>,
  options: HttpEndpointOptions,
): Endpoint {
  return new HttpSession(url, sink, headers, options);
}

class HttpSession implements Endpoint {
  readonly senders: Sender[];
  readonly #sink: ChannelSink;
  readonly #agent: HttpAgent;
  readonly #request: typeof httpRequest;
  readonly #options: RequestOptions;
  /** Sent with every POST; session id and protocol version are added once known. */
  readonly #headers: OutgoingHttpHeaders;
  /** #options with method POST and #headers (node:http copies what it is given). */
  readonly #postOptions: RequestOptions;
  readonly #timeoutMs: number;
  readonly #open = new Set<ClientRequest>();
  #sessionId: string | undefined;
  #closed = false;

  constructor(
    url: string,
    sink: ChannelSink,
    headers: Record<string, string>,
    options: HttpEndpointOptions,
  ) {
    const u = new URL(url);
    const https = u.protocol === 'https:';
    const sockets = options.inFlight + 1; // the window, and one for a notification or an answer
    const pool = { keepAlive: true, maxSockets: sockets, maxFreeSockets: sockets };
    this.#agent = https ? new HttpsAgent(pool) : new HttpAgent(pool);
    this.#request = https ? httpsRequest : httpRequest;
    this.#options = {
      host: u.hostname.replace(/^\[|\]$/g, ''),
      port: u.port === '' ? (https ? 443 : 80) : Number(u.port),
      path: u.pathname + u.search,
      agent: this.#agent,
    };
    this.#headers = { ...headers, accept: ACCEPT, 'content-type': 'application/json' };
    this.#postOptions = { ...this.#options, method: 'POST', headers: this.#headers };
    this.#sink = sink;
    this.#timeoutMs = options.timeoutMs;
    this.senders = [(text, id) => this.#post(text, id)];
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    for (const req of this.#open) req.destroy();
    this.#open.clear();
    if (this.#sessionId !== undefined) await this.#delete();
    this.#agent.destroy();
  }

  /** POSTs one message; `id` is its request id (undefined for a notification or an answer). */
  #post(text: string, id: number | undefined): void {
    if (this.#closed) return;
    this.#headers['content-length'] = Buffer.byteLength(text);
    const req = this.#request(this.#postOptions);
    this.#open.add(req);
    req.setTimeout(this.#timeoutMs, () => req.destroy(new Error('timeout')));
    req.once('response', (res: IncomingMessage) => this.#response(req, res, id));
    req.once('error', (err: NodeJS.ErrnoException) => {
      this.#open.delete(req);
      if (this.#closed) return;
      const reason =
        err.message === 'timeout'
          ? 'timeout'
          : err.code === 'ECONNREFUSED'
            ? 'connect_failed'
            : 'connection_error';
      this.#fail(id, reason, `${err.code ?? ''} ${err.message}`);
    });
    req.end(text);
  }

  #response(req: ClientRequest, res: IncomingMessage, id: number | undefined): void {
    res.once('close', () => this.#open.delete(req));
    const status = res.statusCode ?? 0;
    const sid = res.headers['mcp-session-id'];
    if (id === 0 && typeof sid === 'string' && this.#sessionId === undefined) {
      this.#sessionId = sid;
      this.#headers['mcp-session-id'] = sid;
    }
    if (status < 200 || status > 299) {
      void this.#refused(res, id, status);
      return;
    }
    const type = res.headers['content-type'] ?? '';
    if (id === undefined || status === 202) {
      res.resume(); // a notification or an answer, accepted
      return;
    }
    res.setEncoding('utf8');
    let answered = false;
    const deliver = (msg: unknown) => {
      if (typeof msg !== 'object' || msg === null) return;
      const m = msg as { id?: unknown; method?: unknown; result?: unknown };
      if (m.id === id && m.method === undefined) {
        answered = true;
        if (id === 0) this.#initialized(m.result);
      }
      this.#sink.message(msg);
    };
    const parsed = (text: string) => {
      try {
        return JSON.parse(text) as unknown;
      } catch {
        this.#sink.fault('bad_json');
        return undefined;
      }
    };
    const fail = (reason: string) => {
      answered = true;
      res.destroy();
      this.#fail(id, reason, reason);
    };
    if (type.startsWith('text/event-stream')) {
      const parser = new SseParser(MAX_ANSWER_CHARS);
      res.on('data', (chunk: string) => {
        let events;
        try {
          events = parser.push(chunk);
        } catch (err) {
          if (!(err instanceof SseTooLarge)) throw err;
          return fail('answer_too_large');
        }
        for (const e of events) if (e.event === 'message' && e.data !== '') deliver(parsed(e.data));
      });
    } else if (type.startsWith('application/json')) {
      let body = '';
      res.on('data', (chunk: string) => {
        body += chunk;
        if (body.length > MAX_ANSWER_CHARS) fail('answer_too_large');
      });
      res.once('end', () => {
        if (answered) return;
        const msg = parsed(body);
        if (Array.isArray(msg)) msg.forEach(deliver);
        else deliver(msg);
      });
    } else {
      return fail('bad_content_type');
    }
    res.once('close', () => {
      if (!answered && !this.#closed) this.#fail(id, 'stream_ended', 'no answer on the stream');
    });
  }

  /** Takes the negotiated protocol version from the answer to `initialize`. */
  #initialized(result: unknown): void {
    const version = (result as { protocolVersion?: unknown } | undefined)?.protocolVersion;
    if (typeof version === 'string') this.#headers['mcp-protocol-version'] = version;
  }

  /** A non-2xx answer: its reason (the body's `reason`, or http_<status>) fails the request. */
  async #refused(res: IncomingMessage, id: number | undefined, status: number): Promise<void> {
    const body = await readBounded(res);
    if (this.#closed) return;
    let reason = `http_${status}`;
    try {
      const parsed = JSON.parse(body) as { reason?: unknown; error?: { data?: unknown } };
      const data = parsed.error?.data as { reason?: unknown } | undefined;
      const given = parsed.reason ?? data?.reason;
      if (typeof given === 'string' && /^[a-z][a-z0-9_]*$/.test(given)) reason = given;
    } catch {
      // not JSON: the status says it
    }
    // 404 for a session id the server issued: the session is gone, nothing more can be sent on
    // it; every request outstanding on it (this one too) fails with the reason, as on a close.
    if (status === 404 && this.#sessionId !== undefined) this.#sink.closed(reason);
    else this.#fail(id, reason, `HTTP ${status}: ${body.slice(0, 200)}`);
  }

  /** Hands a failed request back to the driver as an error answer (or a fault, without an id). */
  #fail(id: number | undefined, reason: string, message: string): void {
    if (id === undefined) return this.#sink.fault(reason);
    const error = { code: -32000, message, data: { reason } };
    this.#sink.message({ jsonrpc: '2.0', id, error });
  }

  /** DELETE the session (2 s at most); a server that does not allow it (405) is fine. */
  async #delete(): Promise<void> {
    await new Promise<void>((resolve) => {
      const headers = { ...this.#headers };
      delete headers['content-type'];
      delete headers['content-length'];
      const req = this.#request({ ...this.#options, method: 'DELETE', headers });
      const timer = setTimeout(() => req.destroy(), CLOSE_WAIT_MS);
      req.once('response', (res: IncomingMessage) => res.resume());
      req.once('error', () => undefined);
      req.once('close', () => {
        clearTimeout(timer);
        resolve();
      });
      req.end();
    });
  }
}

/** Reads at most MAX_ERROR_BODY characters of `res` (2 s at most), then drops the rest. */
async function readBounded(res: IncomingMessage): Promise<string> {
  let body = '';
  const timer = setTimeout(() => res.destroy(), CLOSE_WAIT_MS);
  try {
    res.setEncoding('utf8');
    for await (const chunk of res as AsyncIterable<string>) {
      body += chunk;
      if (body.length > MAX_ERROR_BODY) break;
    }
  } catch {
    // the status is enough
  } finally {
    clearTimeout(timer);
    res.destroy();
  }
  return body;
}
