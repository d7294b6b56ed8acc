// The open health routes (docs/operations.md, "Health checks"): GET /healthz (liveness), GET /readyz
// (503 while starting or draining), GET /health (enabled services with sessions, spares and
// isolation level; never a command line or env). Answered without auth, like a load balancer needs.

import { sendJson } from '../http/http-server.js';
import type { Router } from '../http/routes.js';
import type { MCPManager } from '../sessions/mcp-manager.js';

export interface HealthDeps {
  manager: MCPManager;
  /** Open sessions, all services together. */
  sessionCount(): number;
  /** The relay's state: ready, starting, draining, … */
  state(): string;
  version: string;
}

export function addHealthRoutes(router: Router, deps: HealthDeps): void {
  const { manager } = deps;
  router
    .add({
      method: 'GET',
      name: '/healthz',
      pattern: /^\/healthz$/,
      open: true,
      handler: (_q, res) => sendJson(res, 200, { status: 'ok' }),
    })
    .add({
      method: 'GET',
      name: '/readyz',
      pattern: /^\/readyz$/,
      open: true,
      handler: (_q, res) => {
        const state = deps.state();
        const ready = state === 'ready';
        sendJson(res, ready ? 200 : 503, { status: ready ? 'ready' : state });
      },
    })
    .add({
      method: 'GET',
      name: '/health',
      pattern: /^\/health$/,
      open: true,
      handler: (_q, res) => {
        const services: Record<string, object> = {};
        for (const [name, s] of manager.services) {
          if (!s.enabled) continue; // as GET /services
          services[name] = {
            enabled: true,
            sessions: manager.sessionCount(name) - manager.spareCount(name),
            spares: manager.spareCount(name), // ready; they hold session slots
            isolation: manager.isolation.get(name),
          };
        }
        sendJson(res, 200, {
          status: 'healthy',
          timestamp: new Date().toISOString(),
          version: deps.version,
          services,
          sessions: deps.sessionCount(),
        });
      },
    });
}
