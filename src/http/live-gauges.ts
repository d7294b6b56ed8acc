// The live gauges of RelayMetrics (sessions, channels, processes, spares, queue depth, requests in
// flight): nothing is stored, each gauge reads its owners through MetricSources when scraped.

import { Gauge, type Registry } from 'prom-client';
import type { RequestQueue } from '../sessions/request-queue.js';
import type { Session } from '../sessions/session.js';

/** What the metrics read at scrape time. */
export interface MetricSources {
  serviceNames(): Iterable<string>;
  sessions(): Iterable<Session>;
  queues(): ReadonlyMap<string, RequestQueue>;
  /** Live server processes of a service (sessions plus short-lived tool listings). */
  processes(service: string): number;
  /** Ready warm spares of a service (they are among its processes). */
  spares?(service: string): number;
}

/** Registers the live gauges in `registers`; they read `sources` at every scrape. */
export function addLiveGauges(sources: MetricSources, registers: Registry[]): void {
  new Gauge({
    name: 'mcpmux_sessions',
    help: 'Live sessions, by service.',
    labelNames: ['service'],
    registers,
    collect() {
      this.reset();
      for (const name of sources.serviceNames()) this.set({ service: name }, 0);
      for (const s of sources.sessions()) this.inc({ service: s.serviceName });
    },
  });
  new Gauge({
    name: 'mcpmux_channels',
    help: 'Sessions attached to a client (a WebSocket channel or a REST session), by service.',
    labelNames: ['service'],
    registers,
    collect() {
      this.reset();
      for (const name of sources.serviceNames()) this.set({ service: name }, 0);
      for (const s of sources.sessions()) {
        if (s.state === 'attached') this.inc({ service: s.serviceName });
      }
    },
  });
  new Gauge({
    name: 'mcpmux_processes',
    help: 'Live server processes, by service (sessions plus short-lived tool listings).',
    labelNames: ['service'],
    registers,
    collect() {
      this.reset();
      for (const name of sources.serviceNames())
        this.set({ service: name }, sources.processes(name));
    },
  });
  new Gauge({
    name: 'mcpmux_spares',
    help: 'Ready warm spares, by service (started ahead, not initialized; among mcpmux_processes).',
    labelNames: ['service'],
    registers,
    collect() {
      this.reset();
      for (const name of sources.serviceNames())
        this.set({ service: name }, sources.spares?.(name) ?? 0);
    },
  });
  new Gauge({
    name: 'mcpmux_queue_depth',
    help: "Requests waiting in a service's queue (beyond its concurrency).",
    labelNames: ['service'],
    registers,
    collect() {
      this.reset();
      for (const [name, queue] of sources.queues()) this.set({ service: name }, queue.waiting);
    },
  });
  new Gauge({
    name: 'mcpmux_requests_in_flight',
    help: "Requests a service's servers are working on (holding a queue slot).",
    labelNames: ['service'],
    registers,
    collect() {
      this.reset();
      for (const [name, queue] of sources.queues()) this.set({ service: name }, queue.running);
    },
  });
}
