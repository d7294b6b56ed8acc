// Plain HTTP routes of the relay: health, metrics and the REST API. The router matches a route
// (404 / 405 otherwise), lets the relay's guard (Origin, auth, rate limit) refuse it, runs it, and
// reports every answer's route and status (metrics).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError } from './http-server.js';

export type RouteHandler = (
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  params: string[],
) => void | Promise<void>;

export interface Route {
  method: string;
  pattern: RegExp;
  handler: RouteHandler;
  /** Health routes are answered without auth. */
  open?: boolean;
  /** The route's name in metrics (`/services/{name}/call`); default the pattern. */
  name?: string;
}

/** Runs before a matched route; false when it has answered the request itself (refused it). */
export type RouteGuard = (
  route: Route,
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
) => boolean;

/** Told of every answer once it is sent: the route's name (or `unmatched`) and the status. */
export type RouteObserver = (route: string, status: number) => void;

export class Router {
  readonly #routes: Route[] = [];
  #observer: RouteObserver | undefined;
  #onError: ((err: unknown) => void) | undefined;

  add(route: Route): this {
    this.#routes.push(route);
    return this;
  }

  observe(observer: RouteObserver): void {
    this.#observer = observer;
  }

  /** Told of a handler's fault (answered 500), for the log. */
  onError(listener: (err: unknown) => void): void {
    this.#onError = listener;
  }

  /** Finds the route for a request: the route and its captured params, or a 404/405 verdict. */
  match(
    method: string,
    pathname: string,
  ): { route: Route; params: string[] } | 'not_found' | 'method_not_allowed' {
    let pathMatched = false;
    for (const route of this.#routes) {
      const m = route.pattern.exec(pathname);
      if (m === null) continue;
      pathMatched = true;
      if (route.method === method || (method === 'HEAD' && route.method === 'GET')) {
        return { route, params: m.slice(1).map((p) => decodeURIComponent(p)) };
      }
    }
    return pathMatched ? 'method_not_allowed' : 'not_found';
  }

  handle(req: IncomingMessage, res: ServerResponse, url: URL, guard?: RouteGuard): void {
    let found;
    try {
      found = this.match(req.method ?? 'GET', url.pathname);
    } catch {
      this.#report(res, 'unmatched');
      sendError(res, 'bad_input', 'malformed path');
      return;
    }
    if (found === 'not_found') {
      this.#report(res, 'unmatched');
      sendError(res, 'not_found', `no route for ${req.method ?? ''} ${url.pathname}`);
      return;
    }
    if (found === 'method_not_allowed') {
      this.#report(res, 'unmatched');
      sendError(res, 'method_not_allowed', `${req.method ?? ''} not allowed on ${url.pathname}`);
      return;
    }
    this.#report(res, found.route.name ?? found.route.pattern.source);
    if (guard !== undefined && !guard(found.route, req, res, url)) return;
    const failed = (err: unknown) => {
      if (!res.headersSent) sendError(res, 'internal_error', 'internal relay error');
      else res.destroy();
      this.#onError?.(err);
    };
    // A handler may throw before its first await as well as reject: both are answered here.
    let answer: void | Promise<void>;
    try {
      answer = found.route.handler(req, res, url, found.params);
    } catch (err) {
      failed(err);
      return;
    }
    if (answer instanceof Promise) answer.catch(failed);
  }

  #report(res: ServerResponse, route: string): void {
    const observer = this.#observer;
    if (observer !== undefined) res.once('finish', () => observer(route, res.statusCode));
  }
}
