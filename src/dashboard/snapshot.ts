// What the dashboard shows, read once per tick from the relay's owners through read-only
// snapshots (services, the session registry, the request queues, the metrics' request counters):
// services with state, sessions, spares and queue depth; live sessions with age, last activity and
// in-flight requests; traffic per service. Never a command line, an env or a resume token.

import type { RequestQueueStats } from '../sessions/request-queue.js';
import type { SessionStats } from '../sessions/session.js';
import { TrafficWindow, type TrafficReading, type TrafficView } from './traffic.js';

export interface DashboardSources {
  services(): Iterable<{
    name: string;
    description: string;
    enabled: boolean;
    concurrency: number;
    queueLimit: number;
  }>;
  sessions(): Iterable<{ id: string; serviceName: string; stats(): SessionStats }>;
  queue(service: string): RequestQueueStats | undefined;
  traffic(service: string): TrafficReading;
  /** Live server processes of a service (sessions plus short-lived tool listings). */
  processes(service: string): number;
  /** Warm spares of a service, started ahead and ready (services.<name>.warm_spares). */
  spares(service: string): number;
  /** The relay's own state (ready, draining, …). */
  relayState(): string;
}

export interface ServiceView {
  name: string;
  description: string;
  enabled: boolean;
  state: 'disabled' | 'idle' | 'active';
  sessions: number;
  processes: number;
  spares: number;
  queue: { waiting: number; running: number; concurrency: number; limit: number };
  traffic: TrafficView;
}

export interface SessionView {
  id: string;
  service: string;
  state: string;
  age_s: number;
  idle_s: number;
  inflight: number;
}

export interface Snapshot {
  at: string;
  relay: string;
  services: ServiceView[];
  sessions: SessionView[];
}

/** Builds snapshots; keeps one traffic window per service (a bounded ring each). */
export class SnapshotMaker {
  readonly #sources: DashboardSources;
  readonly #traffic = new Map<string, TrafficWindow>();

  constructor(sources: DashboardSources) {
    this.#sources = sources;
  }

  /** A tick: advances the traffic windows. */
  take(nowMs: number): Snapshot {
    return this.#build(nowMs, true);
  }

  /** The current view without advancing the windows (a client that just connected). */
  peek(nowMs: number): Snapshot {
    return this.#build(nowMs, false);
  }

  #build(nowMs: number, advance: boolean): Snapshot {
    const src = this.#sources;
    const perService = new Map<string, number>();
    const sessions: SessionView[] = [];
    for (const s of src.sessions()) {
      const st = s.stats();
      if (st.state === 'closed') continue;
      perService.set(s.serviceName, (perService.get(s.serviceName) ?? 0) + 1);
      sessions.push({
        id: s.id,
        service: s.serviceName,
        state: st.state,
        age_s: Math.max(0, Math.round((nowMs - st.createdAt) / 1000)),
        idle_s: Math.max(0, Math.round((nowMs - st.lastActivity) / 1000)),
        inflight: st.inflight,
      });
    }
    sessions.sort((a, b) => b.age_s - a.age_s || a.id.localeCompare(b.id));
    const services: ServiceView[] = [];
    for (const s of src.services()) {
      const count = perService.get(s.name) ?? 0;
      const q = src.queue(s.name);
      let window = this.#traffic.get(s.name);
      if (window === undefined) {
        window = new TrafficWindow();
        this.#traffic.set(s.name, window);
      }
      const reading = src.traffic(s.name);
      const total = Object.values(reading.outcomes).reduce((a, b) => a + b, 0);
      services.push({
        name: s.name,
        description: s.description,
        enabled: s.enabled,
        state: !s.enabled ? 'disabled' : count > 0 ? 'active' : 'idle',
        sessions: count,
        processes: src.processes(s.name),
        spares: src.spares(s.name),
        queue: {
          waiting: q?.waiting ?? 0,
          running: q?.running ?? 0,
          concurrency: q?.concurrency ?? s.concurrency,
          limit: q?.queueLimit ?? s.queueLimit,
        },
        traffic: advance ? window.tick(reading, nowMs) : window.view(total),
      });
    }
    return { at: new Date(nowMs).toISOString(), relay: src.relayState(), services, sessions };
  }
}
