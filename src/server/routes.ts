// Plain HTTP routes of the relay (health now; the REST API adds to this table).

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
}

export class Router {
  readonly #routes: Route[] = [];

  add(route: Route): this {
    this.#routes.push(route);
    return this;
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

  handle(
    req: IncomingMessage,
    res: ServerResponse,
    url: URL,
    before?: (route: Route) => boolean,
  ): void {
    let found;
    try {
      found = this.match(req.method ?? 'GET', url.pathname);
    } catch {
      sendError(res, 'bad_input', 'malformed path');
      return;
    }
    if (found === 'not_found')
      return sendError(res, 'not_found', `no route for ${req.method ?? ''} ${url.pathname}`);
    if (found === 'method_not_allowed') {
      sendError(res, 'method_not_allowed', `${req.method ?? ''} not allowed on ${url.pathname}`);
      return;
    }
    if (before !== undefined && !before(found.route)) return;
    Promise.resolve(found.route.handler(req, res, url, found.params)).catch((err: unknown) => {
      if (!res.headersSent) sendError(res, 'internal_error', (err as Error).message);
      else res.destroy();
    });
  }
}
