// Who may use the relay, and how much (docs/operations.md): the browser Origin check, credentials, the
// per-client rate limit, the connection caps, and CORS for the origins an operator listed. Every
// refusal is a reason from the catalogue, a security log line and a refusal in the metrics.
//   plain requests:  Host (403) → Origin (403) → auth (401) → rate limit (429) → POST body type
//                    (415)                                              (health routes: Host only)
//   upgrades:        Host (403) → Origin (403) → auth (401, ?access_token allowed) → rate limit (429)
//                    → connection caps (503), reserved until the socket closes
//   TCP connections: max_http_connections_per_address of the peer (closed at once, 503 best effort)
//                    until they close or become a WebSocket
//   WebSocket requests: the same rate limit, answered as a JSON-RPC error (rate_limited)

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { Config } from '../config/types.js';
import { McpmuxError, type Reason } from '../errors.js';
import { Authenticator } from './auth.js';
import { HttpRefusal, sendMcpmuxError } from './http-server.js';
import { HostPolicy } from './host-check.js';
import { OriginPolicy } from './origin.js';
import { RateLimiter } from './rate-limit.js';
import type { SecurityLog } from './security-log.js';

const CORS_MAX_AGE_S = 600;

/** A fault inside a check (not a refusal): 500, its cause kept for the log. */
const internalError = (err: unknown) =>
  new McpmuxError('internal_error', 'internal relay error', {}, { cause: err });

/** The client's address: the socket's peer, or (trust_proxy) the last X-Forwarded-For entry. */
export function clientAddress(req: IncomingMessage, trustProxy: boolean): string {
  if (trustProxy) {
    const forwarded = req.headers['x-forwarded-for'];
    const header = Array.isArray(forwarded) ? forwarded.at(-1) : forwarded;
    const last = header?.split(',').at(-1)?.trim();
    if (last !== undefined && last !== '') return normalizeAddress(last);
  }
  return normalizeAddress(req.socket.remoteAddress ?? 'unknown');
}

/** `::ffff:127.0.0.1` → `127.0.0.1`, so one client has one address in limits and logs. */
function normalizeAddress(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}

/** True for `application/json`, with or without parameters (`; charset=utf-8`). */
export function isJsonMediaType(contentType: string | undefined): boolean {
  if (contentType === undefined) return false;
  const type = contentType.split(';', 1)[0]!.trim().toLowerCase();
  return type === 'application/json';
}

export interface AccessOptions {
  config: Config;
  security: SecurityLog;
  /** Counts a refusal (metrics). */
  refused: (reason: Reason) => void;
}

/**
 * Asked by an endpoint before each client request is handed to its channel (the rate limit):
 * undefined lets it through, an error is sent back as the request's JSON-RPC error instead.
 */
export type RequestAdmission = () => McpmuxError | undefined;

export class AccessControl {
  readonly auth: Authenticator;
  readonly origins: OriginPolicy;
  readonly hosts: HostPolicy;
  readonly #limiter: RateLimiter | undefined;
  readonly #security: SecurityLog;
  readonly #refused: (reason: Reason) => void;
  readonly #trustProxy: boolean;
  readonly #maxConnections: number;
  readonly #maxPerAddress: number;
  #connections = 0;
  readonly #perAddress = new Map<string, number>();
  readonly #maxHttpPerAddress: number;
  /** Plain-HTTP connections (TCP peers, not X-Forwarded-For) by address. */
  readonly #httpPerAddress = new Map<string, number>();
  readonly #httpCounted = new WeakMap<Socket, string>();

  constructor(options: AccessOptions) {
    const { server, rate_limiting: rate } = options.config;
    this.auth = new Authenticator(server);
    this.origins = new OriginPolicy(server.allowed_origins);
    this.hosts = new HostPolicy(server.allowed_hosts, server.host);
    this.#limiter = rate.enabled ? new RateLimiter(rate.requests_per_minute) : undefined;
    this.#security = options.security;
    this.#refused = options.refused;
    this.#trustProxy = server.trust_proxy;
    this.#maxConnections = server.max_connections;
    this.#maxPerAddress = server.max_connections_per_address;
    this.#maxHttpPerAddress = server.max_http_connections_per_address;
  }

  /** Connections reserved or open (upgrades count from the moment they pass the checks). */
  get connections(): number {
    return this.#connections;
  }

  address(req: IncomingMessage): string {
    return clientAddress(req, this.#trustProxy);
  }

  /**
   * CORS for an Origin listed in allowed_origins (same-origin pages need none): adds the headers
   * to the answer; answers a preflight (OPTIONS) itself and returns true.
   */
  cors(req: IncomingMessage, res: ServerResponse): boolean {
    const origin = req.headers.origin;
    if (origin === undefined || !this.origins.listed(origin)) return false;
    res.setHeader('access-control-allow-origin', origin);
    res.setHeader('vary', 'Origin');
    // A listed page may read a 429's Retry-After (the body's retry_after_ms says the same).
    // Mcp-Session-Id: a Streamable HTTP client reads its session id from the initialize answer.
    res.setHeader('access-control-expose-headers', 'Retry-After, Mcp-Session-Id');
    if (req.method !== 'OPTIONS' || req.headers['access-control-request-method'] === undefined) {
      return false;
    }
    res.writeHead(204, {
      'access-control-allow-methods': 'GET, POST, DELETE, OPTIONS',
      'access-control-allow-headers':
        'authorization, content-type, mcp-session-id, mcp-protocol-version, last-event-id',
      'access-control-max-age': String(CORS_MAX_AGE_S),
      'content-length': '0',
    });
    res.end();
    return true;
  }

  /** The Host check of every plain request (health routes too); false when it has refused it. */
  guardHost(req: IncomingMessage, res: ServerResponse): boolean {
    try {
      this.#checkHost(req, this.address(req));
      return true;
    } catch (err) {
      sendMcpmuxError(res, err as McpmuxError);
      return false;
    }
  }

  /** Checks a plain request to a protected route; false when it has sent the refusal. */
  guardRequest(req: IncomingMessage, res: ServerResponse, url: URL): boolean {
    try {
      this.#check(req, url, false);
      if (req.method === 'POST' && !isJsonMediaType(req.headers['content-type'])) {
        // A text/plain or form POST is a "simple" request a foreign page may send without a CORS
        // preflight; requiring JSON makes every cross-origin call go through the preflight.
        this.#refused('unsupported_media_type');
        throw new McpmuxError(
          'unsupported_media_type',
          'the body must be sent with Content-Type: application/json',
        );
      }
      return true;
    } catch (err) {
      sendMcpmuxError(res, err instanceof McpmuxError ? err : internalError(err));
      return false;
    }
  }

  /**
   * Checks an upgrade; throws the refusal. When it passes, the connection is counted against
   * max_connections and max_connections_per_address until its socket closes.
   */
  checkUpgrade(req: IncomingMessage, url: URL): void {
    const ip = this.#check(req, url, true);
    const fromIp = this.#perAddress.get(ip) ?? 0;
    const limit =
      this.#connections >= this.#maxConnections
        ? 'max_connections'
        : fromIp >= this.#maxPerAddress
          ? 'max_connections_per_address'
          : undefined;
    if (limit !== undefined) {
      this.#refuse('connection_limit', ip, req, { limit });
      throw new McpmuxError('connection_limit', `connection limit reached (${limit})`, { limit });
    }
    this.#connections++;
    this.#perAddress.set(ip, fromIp + 1);
    req.socket.once('close', () => {
      this.#connections--;
      const left = (this.#perAddress.get(ip) ?? 1) - 1;
      if (left > 0) this.#perAddress.set(ip, left);
      else this.#perAddress.delete(ip);
    });
  }

  /**
   * The checks of an upgrade (Host, Origin, auth with ?access_token=, rate limit, connection
   * caps) for a plain GET of the same URL, so a page can learn why its WebSocket was refused:
   * throws the refusal; nothing is reserved.
   */
  probeUpgrade(req: IncomingMessage, url: URL): void {
    const ip = this.#check(req, url, true);
    const full =
      this.#connections >= this.#maxConnections ||
      (this.#perAddress.get(ip) ?? 0) >= this.#maxPerAddress;
    if (full) throw new McpmuxError('connection_limit', 'connection limit reached');
  }

  /**
   * Counts a new TCP connection against max_http_connections_per_address (its peer address, also
   * behind a proxy): the refusal when the address already holds that many, else undefined.
   */
  admitSocket(socket: Socket): McpmuxError | undefined {
    if (this.#maxHttpPerAddress === 0) return undefined;
    const ip = normalizeAddress(socket.remoteAddress ?? 'unknown');
    const open = this.#httpPerAddress.get(ip) ?? 0;
    if (open >= this.#maxHttpPerAddress) {
      const limit = 'max_http_connections_per_address';
      this.#refused('connection_limit');
      this.#security.event('connection_limit', { ip, limit });
      return new McpmuxError('connection_limit', `connection limit reached (${limit})`, { limit });
    }
    this.#httpPerAddress.set(ip, open + 1);
    this.#httpCounted.set(socket, ip);
    socket.once('close', () => this.releaseSocket(socket));
    return undefined;
  }

  /** The connection is no longer a plain-HTTP one (it closed, or became a WebSocket). */
  releaseSocket(socket: Socket): void {
    // Under TLS the upgrade's socket wraps the TCP one that was counted.
    const tcp = (socket as Socket & { _parent?: Socket })._parent ?? socket;
    const ip = this.#httpCounted.get(tcp);
    if (ip === undefined) return;
    this.#httpCounted.delete(tcp);
    const left = (this.#httpPerAddress.get(ip) ?? 1) - 1;
    if (left > 0) this.#httpPerAddress.set(ip, left);
    else this.#httpPerAddress.delete(ip);
  }

  /**
   * The rate limit for one WebSocket connection's requests (undefined when rate limiting is off).
   * The endpoints ask it for each client request before handing it to the channel.
   */
  admitFor(ip: string): RequestAdmission | undefined {
    const limiter = this.#limiter;
    if (limiter === undefined) return undefined;
    return () => {
      const decision = limiter.take(ip);
      if (decision.ok) return undefined;
      this.#refused('rate_limited');
      this.#security.event('rate_limited', { ip, transport: 'websocket' });
      return new McpmuxError('rate_limited', 'rate limit exceeded', {
        retry_after_ms: decision.retryAfterMs,
      });
    };
  }

  #checkHost(req: IncomingMessage, ip: string): void {
    const host = req.headers.host;
    if (this.hosts.allows(host)) return;
    this.#refuse('forbidden_host', ip, req, { host });
    throw new McpmuxError('forbidden_host', `Host ${host ?? '(none)'} is not allowed`);
  }

  /** Host, Origin, auth and rate limit; returns the client address or throws the refusal. */
  #check(req: IncomingMessage, url: URL, upgrade: boolean): string {
    const ip = this.address(req);
    this.#checkHost(req, ip);
    const origin = req.headers.origin;
    if (!this.origins.allows(origin, req.headers.host)) {
      this.#refuse('forbidden_origin', ip, req, { origin });
      throw new McpmuxError('forbidden_origin', `Origin ${origin ?? ''} is not allowed`);
    }
    const auth = this.auth.check(req, url, upgrade);
    if (!auth.ok) {
      // A failed attempt costs a token too, so guessing credentials is rate limited.
      const limited = this.#limiter?.take(ip);
      if (limited !== undefined && !limited.ok)
        throw this.#rateLimited(ip, req, limited.retryAfterMs);
      this.#refuse('unauthorized', ip, req, { why: auth.why });
      throw new HttpRefusal('unauthorized', 'authentication required', {
        'www-authenticate': this.auth.challenge,
      });
    }
    const decision = this.#limiter?.take(ip);
    if (decision !== undefined && !decision.ok) {
      throw this.#rateLimited(ip, req, decision.retryAfterMs);
    }
    return ip;
  }

  #rateLimited(ip: string, req: IncomingMessage, retryAfterMs: number): McpmuxError {
    this.#refuse('rate_limited', ip, req, { transport: 'http' });
    return new HttpRefusal(
      'rate_limited',
      'rate limit exceeded',
      { 'retry-after': String(Math.max(1, Math.ceil(retryAfterMs / 1000))) },
      { retry_after_ms: retryAfterMs },
    );
  }

  #refuse(
    reason:
      'forbidden_host' | 'forbidden_origin' | 'unauthorized' | 'rate_limited' | 'connection_limit',
    ip: string,
    req: IncomingMessage,
    fields: Record<string, string | undefined>,
  ): void {
    this.#refused(reason);
    const event = reason === 'unauthorized' ? 'auth_failed' : reason;
    this.#security.event(event, { ip, method: req.method, path: req.url, ...fields });
  }
}
