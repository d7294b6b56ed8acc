// The built-in dashboard (server.dashboard, on by default): GET / and its files under
// /dashboard/ are open (the page holds no data), GET /events (the live snapshots, SSE) is behind
// the same auth as every other API route. close() ends the live streams (relay shutdown).

import type { Router } from '../http/routes.js';
import { EventStream } from './event-stream.js';
import { SnapshotMaker, type DashboardSources } from './snapshot.js';
import { StaticAssets } from './static-assets.js';

export const DASHBOARD_LIMITS = {
  /** One snapshot a second. */
  intervalMs: 1000,
  /** Open GET /events streams, all clients together. */
  maxStreams: 32,
  /** Unsent bytes on one stream's socket past which it is skipped (a few snapshots' worth). */
  maxBufferedBytes: 256 * 1024,
  /** Ticks in a row a stream may be skipped before it is closed. */
  maxSkippedTicks: 30,
} as const;

export interface DashboardOptions {
  intervalMs?: number;
  now?: () => number;
}

export function addDashboard(
  router: Router,
  sources: DashboardSources,
  options: DashboardOptions = {},
): { close(): void; readonly streams: number } {
  const assets = new StaticAssets();
  const now = options.now ?? Date.now;
  let maker = new SnapshotMaker(sources);
  const events = new EventStream({
    ...DASHBOARD_LIMITS,
    intervalMs: options.intervalMs ?? DASHBOARD_LIMITS.intervalMs,
    snapshot: (advance) => (advance ? maker.take(now()) : maker.peek(now())),
    restart: () => {
      maker = new SnapshotMaker(sources);
      maker.take(now()); // the traffic windows' first reading
    },
  });
  router
    .add({
      method: 'GET',
      name: '/',
      pattern: /^\/$/,
      open: true,
      handler: (req, res) => assets.send(res, 'index.html', req.method === 'HEAD'),
    })
    .add({
      method: 'GET',
      name: '/dashboard/{file}',
      pattern: /^\/dashboard\/([a-z-]+\.(?:js|css|html))$/,
      open: true,
      handler: (req, res, _url, [file]) => assets.send(res, file ?? '', req.method === 'HEAD'),
    })
    .add({
      method: 'GET',
      name: '/events',
      pattern: /^\/events$/,
      handler: (req, res) => events.serve(req, res),
    });
  return {
    close: () => events.close(),
    get streams() {
      return events.size;
    },
  };
}
