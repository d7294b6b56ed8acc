// Prometheus metrics (docs/operations.md), prefix mcpmux_, served as text on GET /metrics. One registry per
// relay (never prom-client's global one), so several relays in one process do not mix.
//
// The per-request series (requests by outcome, request duration, queue wait) are on the hot path:
// they are plain numbers in per-service arrays (RequestStats, request-stats.ts), bumped without
// allocating, and turned into samples only when scraped. Everything that changes once per
// connection, session or HTTP request uses prom-client's own types; live values (sessions, queue
// depth, bytes) are read from their owners at scrape time (the gauges are in live-gauges.ts).

import type { Socket } from 'node:net';
import { Counter, Gauge, Registry, collectDefaultMetrics, type Metric } from 'prom-client';
import type { McpmuxError } from '../errors.js';
import type { ExitInfo } from '../sandbox/managed-child.js';
import { addLiveGauges, type MetricSources } from './live-gauges.js';
import { OUTCOMES, RequestStats, type Sample } from './request-stats.js';

export type Endpoint = 'direct' | 'mux';

/**
 * prom-client's process and Node.js metrics (CPU, memory, file descriptors, event loop, GC), once
 * per process: they watch the process, not a relay, and their observers are never removed.
 */
let sharedProcessRegistry: Registry | undefined;
function processRegistry(): Registry {
  if (sharedProcessRegistry === undefined) {
    sharedProcessRegistry = new Registry();
    collectDefaultMetrics({ register: sharedProcessRegistry, prefix: 'mcpmux_' });
  }
  return sharedProcessRegistry;
}

/** A metric prom-client's Registry renders by calling get() (the shape its own types return). */
function customMetric(
  name: string,
  help: string,
  type: 'counter' | 'histogram',
  values: () => Sample[],
): Metric {
  const metric = {
    name,
    help,
    type,
    get: () => Promise.resolve({ name, help, type, values: values(), aggregator: 'sum' }),
  };
  return metric as unknown as Metric;
}

export class RelayMetrics {
  readonly registry = new Registry();
  readonly #requestStats = new Map<string, RequestStats>();
  readonly #connections: Gauge<'endpoint'>;
  readonly #connectionsTotal: Counter<'endpoint'>;
  readonly #refusals: Counter<'reason'>;
  readonly #http: Counter<'route' | 'status'>;
  readonly #spawns: Counter<'service'>;
  readonly #exits: Counter<'service' | 'reason'>;
  readonly #junk: Counter<'service'>;
  readonly #protocolErrors: Counter<'service' | 'problem'>;
  readonly #sockets = new Set<Socket>();
  #closedBytesIn = 0;
  #closedBytesOut = 0;

  constructor(sources: MetricSources, version: string) {
    const registers = [this.registry];

    const info = new Gauge({
      name: 'mcpmux_build_info',
      help: 'Always 1; the relay version is a label.',
      labelNames: ['version'],
      registers,
    });
    info.set({ version }, 1);

    this.#connections = new Gauge({
      name: 'mcpmux_connections',
      help: 'Open WebSocket connections, by endpoint (direct = /mcp/{service}, mux = /ws).',
      labelNames: ['endpoint'],
      registers,
    });
    this.#connectionsTotal = new Counter({
      name: 'mcpmux_connections_total',
      help: 'WebSocket connections accepted, by endpoint.',
      labelNames: ['endpoint'],
      registers,
    });
    for (const endpoint of ['direct', 'mux']) {
      this.#connections.set({ endpoint }, 0);
      this.#connectionsTotal.inc({ endpoint }, 0);
    }
    this.#refusals = new Counter({
      name: 'mcpmux_refusals_total',
      help: 'Requests, upgrades and WebSocket requests refused by a limit or a check, by reason.',
      labelNames: ['reason'],
      registers,
    });
    this.#http = new Counter({
      name: 'mcpmux_http_requests_total',
      help: 'Plain HTTP requests answered, by route and status code.',
      labelNames: ['route', 'status'],
      registers,
    });
    this.#spawns = new Counter({
      name: 'mcpmux_process_spawns_total',
      help: 'Server processes started, by service.',
      labelNames: ['service'],
      registers,
    });
    this.#exits = new Counter({
      name: 'mcpmux_process_exits_total',
      help: 'Server processes gone, by service and reason (stopped, exited, crashed, killed).',
      labelNames: ['service', 'reason'],
      registers,
    });
    this.#junk = new Counter({
      name: 'mcpmux_upstream_junk_lines_total',
      help: 'Server stdout lines skipped because they are not JSON-RPC messages, by service.',
      labelNames: ['service'],
      registers,
    });
    this.#protocolErrors = new Counter({
      name: 'mcpmux_upstream_protocol_errors_total',
      help: 'Sessions ended with upstream_protocol_error, by service and data.problem.',
      labelNames: ['service', 'problem'],
      registers,
    });
    addLiveGauges(sources, registers);
    this.#addRequestSeries();
    this.#addByteCounters(registers);
  }

  /** The request observer of `service` (made once, then reused by every session). */
  requestStats(service: string): RequestStats {
    let stats = this.#requestStats.get(service);
    if (stats === undefined) {
      stats = new RequestStats();
      this.#requestStats.set(service, stats);
    }
    return stats;
  }

  connectionOpened(endpoint: Endpoint): void {
    this.#connections.inc({ endpoint });
    this.#connectionsTotal.inc({ endpoint });
  }

  connectionClosed(endpoint: Endpoint): void {
    this.#connections.dec({ endpoint });
  }

  refused(reason: string): void {
    this.#refusals.inc({ reason });
  }

  httpRequest(route: string, status: number): void {
    this.#http.inc({ route, status: String(status) });
  }

  processSpawned(service: string): void {
    this.#spawns.inc({ service });
  }

  processExited(service: string, info: ExitInfo): void {
    const reason = info.requested
      ? 'stopped'
      : info.signal !== null
        ? 'killed'
        : info.code === 0
          ? 'exited'
          : 'crashed';
    this.#exits.inc({ service, reason });
  }

  upstreamJunk(service: string): void {
    this.#junk.inc({ service });
  }

  upstreamProtocolError(service: string, err: McpmuxError): void {
    const problem = err.data.problem;
    this.#protocolErrors.inc({ service, problem: typeof problem === 'string' ? problem : 'other' });
  }

  /** Counts a TCP connection's bytes (read at scrape time, added to the total when it closes). */
  trackSocket(socket: Socket): void {
    this.#sockets.add(socket);
    socket.once('close', () => {
      this.#sockets.delete(socket);
      this.#closedBytesIn += socket.bytesRead;
      this.#closedBytesOut += socket.bytesWritten;
    });
  }

  /** The exposition text and its content type. */
  async render(): Promise<{ text: string; contentType: string }> {
    const text = await Registry.merge([processRegistry(), this.registry]).metrics();
    // prom-client writes NaN (an event-loop figure before its first sample) as "Nan".
    return { text: text.replace(/ Nan$/gm, ' NaN'), contentType: this.registry.contentType };
  }

  #addRequestSeries(): void {
    const all = this.#requestStats;
    this.registry.registerMetric(
      customMetric(
        'mcpmux_requests_total',
        'Client requests to a service, by outcome: ok, error (the server answered with an error), timeout, queue_full, cancelled, closed (the session ended first).',
        'counter',
        () => {
          const values: Sample[] = [];
          for (const [service, stats] of all) {
            OUTCOMES.forEach((outcome, i) => {
              values.push({ labels: { service, outcome }, value: stats.outcomes[i]! });
            });
          }
          return values;
        },
      ),
    );
    this.registry.registerMetric(
      customMetric(
        'mcpmux_request_duration_seconds',
        'Time from a request reaching the relay to its answer (queue wait included), by service.',
        'histogram',
        () => {
          const values: Sample[] = [];
          for (const [service, stats] of all) {
            stats.duration.samples('mcpmux_request_duration_seconds', { service }, values);
          }
          return values;
        },
      ),
    );
    this.registry.registerMetric(
      customMetric(
        'mcpmux_queue_wait_seconds',
        "Time a request waited in its service's queue before being sent to the server.",
        'histogram',
        () => {
          const values: Sample[] = [];
          for (const [service, stats] of all) {
            stats.wait.samples('mcpmux_queue_wait_seconds', { service }, values);
          }
          return values;
        },
      ),
    );
  }

  #addByteCounters(registers: Registry[]): void {
    const sum = (pick: (s: Socket) => number) => {
      let total = 0;
      for (const socket of this.#sockets) total += pick(socket);
      return total;
    };
    const bytesIn = () => this.#closedBytesIn + sum((s) => s.bytesRead);
    const bytesOut = () => this.#closedBytesOut + sum((s) => s.bytesWritten);
    new Counter({
      name: 'mcpmux_received_bytes_total',
      help: 'Bytes received from clients (HTTP and WebSocket, as on the wire).',
      registers,
      collect() {
        this.reset();
        this.inc(bytesIn());
      },
    });
    new Counter({
      name: 'mcpmux_sent_bytes_total',
      help: 'Bytes sent to clients (HTTP and WebSocket, as on the wire).',
      registers,
      collect() {
        this.reset();
        this.inc(bytesOut());
      },
    });
  }
}
