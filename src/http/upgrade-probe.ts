// GET /ws without an Upgrade header: the upgrade's own checks, answered as JSON, so a browser page
// can learn why its WebSocket was refused (a refused upgrade reaches a page as close 1006 with no
// reason). Same URL as the WebSocket (?access_token= included), plus optional ?service=NAME to
// check the service an `open` envelope would name. 200 {status: "ok"} when an upgrade would be
// accepted now; otherwise the refusal's status and {error, reason}. The answer carries only
// that verdict, so any page may read it (Access-Control-Allow-Origin: * unless the Origin is
// listed and already echoed).

import type { IncomingMessage, ServerResponse } from 'node:http';
import { McpmuxError } from '../errors.js';
import { sendJson, sendMcpmuxError } from './http-server.js';
import type { Router } from './routes.js';

/** Throws the refusal an upgrade of `url` would get (service: the one to check, if any). */
export type UpgradeCheck = (req: IncomingMessage, url: URL, service: string | undefined) => void;

export function addUpgradeProbe(router: Router, check: UpgradeCheck): void {
  router.add({
    method: 'GET',
    name: '/ws (probe)',
    pattern: /^\/ws$/,
    open: true, // the checks are the upgrade's own, ?access_token= included
    handler: (req: IncomingMessage, res: ServerResponse, url: URL) => {
      if (!res.hasHeader('access-control-allow-origin')) {
        res.setHeader('access-control-allow-origin', '*');
      }
      const service = url.searchParams.get('service') ?? undefined;
      try {
        check(req, url, service);
      } catch (err) {
        const e = err instanceof McpmuxError ? err : new McpmuxError('internal_error');
        sendMcpmuxError(res, e);
        return;
      }
      sendJson(res, 200, {
        status: 'ok',
        message: 'a WebSocket upgrade of this URL would be accepted now',
        ...(service !== undefined && { service }),
      });
    },
  });
}
