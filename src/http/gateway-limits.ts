// The SignalWire gateway's rate limits (its `rate_limiting` keys, flask-limiter strings), applied
// as the gateway applies them: per client address, per route, in fixed windows that start at a
// client's first request (flask-limiter's default strategy with its memory storage).
//
//   tools_limit           GET    /services/{name}/tools   (all services share the route's window)
//   call_limit            POST   /services/{name}/call
//   session_delete_limit  DELETE /sessions/{id}
//   default_limits        GET /health, GET /services, GET /sessions (each route its own window)
//
// mcpmux's own routes (/healthz, /readyz, /metrics, the dashboard, WebSockets) are not limited by
// these keys; `requests_per_minute` is a separate, relay-wide limit. A refused request does not
// count. FixedWindows is PURE apart from the injectable clock.

import type { ServerResponse } from 'node:http';
import type { RateLimitConfig } from '../config/types.js';
import { sendError } from './http-server.js';
import { parseLimits, type FlaskLimit } from '../util/flask-limits.js';

export type WindowDecision = { ok: true } | { ok: false; retryAfterMs: number; limit: string };

const ALLOWED: WindowDecision = { ok: true };
const MAX_KEYS = 100_000;

interface Window {
  /** Clock reading at which each limit's window ends. */
  ends: number[];
  counts: number[];
}

/** Fixed windows for one route: every limit of `limits` must allow a request. */
export class FixedWindows {
  readonly #limits: readonly FlaskLimit[];
  readonly #now: () => number;
  readonly #windows = new Map<string, Window>();
  readonly #longestMs: number;
  #lastSweep: number;

  constructor(limits: readonly FlaskLimit[], now: () => number = () => performance.now()) {
    this.#limits = limits;
    this.#now = now;
    this.#longestMs = Math.max(0, ...limits.map((l) => l.windowMs));
    this.#lastSweep = now();
  }

  get size(): number {
    return this.#windows.size;
  }

  /** Counts one request of `key`, or refuses it with the time until the fullest window ends. */
  take(key: string): WindowDecision {
    const now = this.#now();
    let w = this.#windows.get(key);
    if (w === undefined) {
      this.#maybeSweep(now);
      w = { ends: this.#limits.map((l) => now + l.windowMs), counts: this.#limits.map(() => 0) };
      this.#windows.set(key, w);
    }
    let refused: WindowDecision = ALLOWED;
    for (let i = 0; i < this.#limits.length; i++) {
      const limit = this.#limits[i]!;
      if (now >= w.ends[i]!) {
        w.ends[i] = now + limit.windowMs;
        w.counts[i] = 0;
      }
      if (w.counts[i]! >= limit.count) {
        const retryAfterMs = Math.max(1, Math.ceil(w.ends[i]! - now));
        if (refused.ok || retryAfterMs > refused.retryAfterMs) {
          refused = { ok: false, retryAfterMs, limit: limit.text };
        }
      }
    }
    if (!refused.ok) return refused;
    for (let i = 0; i < w.counts.length; i++) w.counts[i]!++;
    return ALLOWED;
  }

  /** Drops keys whose every window has ended (at most once per longest window, or at the bound). */
  #maybeSweep(now: number): void {
    if (this.#windows.size < MAX_KEYS && now - this.#lastSweep < this.#longestMs) return;
    this.#lastSweep = now;
    for (const [key, w] of this.#windows) {
      if (w.ends.every((end) => now >= end)) this.#windows.delete(key);
    }
    let excess = this.#windows.size - MAX_KEYS + 1;
    for (const key of this.#windows.keys()) {
      if (excess-- <= 0) break;
      this.#windows.delete(key);
    }
  }
}

/** Which gateway key limits which route (by the router's route names). */
export function gatewayRouteLimits(rate: RateLimitConfig): Map<string, FlaskLimit[]> {
  const parse = (value: string | readonly string[]): FlaskLimit[] => {
    const parsed = parseLimits(value);
    return parsed.ok ? parsed.limits : []; // the loader has already refused bad strings
  };
  const defaults = parse(rate.default_limits);
  const routes = new Map<string, FlaskLimit[]>([
    ['GET /services/{name}/tools', parse(rate.tools_limit)],
    ['POST /services/{name}/call', parse(rate.call_limit)],
    ['DELETE /sessions/{id}', parse(rate.session_delete_limit)],
    ['GET /health', defaults],
    ['GET /services', defaults],
    ['GET /sessions', defaults],
  ]);
  for (const [route, limits] of routes) if (limits.length === 0) routes.delete(route);
  return routes;
}

/** The gateway's limits for every route that has some. */
export class GatewayLimits {
  readonly #routes = new Map<string, FixedWindows>();

  constructor(rate: RateLimitConfig, now?: () => number) {
    for (const [route, limits] of gatewayRouteLimits(rate)) {
      this.#routes.set(route, new FixedWindows(limits, now));
    }
  }

  get enabled(): boolean {
    return this.#routes.size > 0;
  }

  /** Counts a request of `ip` to `method route`; the refusal when a limit is reached. */
  take(method: string, route: string, ip: string): WindowDecision {
    const windows = this.#routes.get(`${method === 'HEAD' ? 'GET' : method} ${route}`);
    return windows === undefined ? ALLOWED : windows.take(ip);
  }
}

/** 429 with Retry-After (seconds) and `retry_after_ms` and the limit in the body. */
export function sendGatewayRefusal(
  res: ServerResponse,
  decision: { retryAfterMs: number; limit: string },
): void {
  sendError(
    res,
    'rate_limited',
    `rate limit exceeded (${decision.limit})`,
    { 'retry-after': String(Math.max(1, Math.ceil(decision.retryAfterMs / 1000))) },
    { retry_after_ms: decision.retryAfterMs, limit: decision.limit },
  );
}
