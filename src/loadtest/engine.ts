// Runs one load test: opens every connection and channel (under one connect deadline),
// initializes each channel, drives them for the warm-up and the measured duration or request
// count, then drains (each request under its own timeout) and closes everything it opened.

import { setMaxListeners } from 'node:events';
import { ChannelDriver, Tally } from './channel-driver.js';
import { ConnectError, openEndpoint, type Endpoint, type Target } from './connect.js';
import { openHttpEndpoint } from './http-endpoint.js';
import type { HistogramSnapshot } from './histogram.js';

export type { Target } from './connect.js';

export interface LoadSpec {
  target: Target;
  /** WebSocket connections, or (mode http) MCP sessions, each its own virtual client. */
  connections: number;
  /** Channels per connection (mode ws only; 1 otherwise). */
  channels: number;
  /** Requests kept outstanding per channel. */
  inFlight: number;
  /** Measured time; the run ends at whichever of durationMs and requests comes first. */
  durationMs?: number;
  requests?: number;
  warmupMs: number;
  method: string;
  params: unknown;
  timeoutMs: number;
  connectTimeoutMs: number;
  headers: Record<string, string>;
  /**
   * One write per message (true), as a naive client does, or (false, the default) the messages
   * one event-loop turn sends leave in one write, still one frame or line each.
   */
  writePerMessage?: boolean;
}

export interface LoadProgress {
  elapsedMs: number;
  phase: 'warmup' | 'measuring' | 'draining';
  ok: number;
  errors: number;
  /** Successful requests per second over the last progress interval (warm-up included). */
  recentRps: number;
  p50Ms: number;
  p99Ms: number;
}

export interface LoadResult {
  mode: Target['mode'];
  target: string;
  method: string;
  connections: number;
  channels: number;
  inFlight: number;
  /** From the end of the warm-up to the last measured response. */
  elapsedMs: number;
  /** Successful requests per second. */
  rps: number;
  ok: number;
  errorCount: number;
  errors: Record<string, number>;
  /** Requests still outstanding when the run was aborted (neither ok nor errors). */
  unfinished: number;
  /** Latency of successful requests, in milliseconds. */
  latencyMs: HistogramSnapshot;
  warmup: { requests: number; errors: number };
  aborted: boolean;
}

export interface LoadHooks {
  onProgress?: (progress: LoadProgress) => void;
  progressIntervalMs?: number;
  /** Aborting stops the run at once; what was measured so far is returned. */
  signal?: AbortSignal;
}

const TICK_MS = 50;
const OPEN_CONCURRENCY = 16;

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

function roundAll<T extends object>(values: T, digits: number): T {
  const entries = Object.entries(values).map(([k, v]) => [k, round(v as number, digits)]);
  return Object.fromEntries(entries) as T;
}

function describe(target: Target): string {
  return target.mode === 'stdio' ? target.command.join(' ') : target.url;
}

/** Runs the load; rejects with a ConnectError when a connection or channel cannot be set up. */
export async function runLoad(spec: LoadSpec, hooks: LoadHooks = {}): Promise<LoadResult> {
  const tally = new Tally(spec.requests ?? Infinity);
  const endpoints: Endpoint[] = [];
  const drivers: ChannelDriver[] = [];
  try {
    await setUp(spec, tally, endpoints, drivers, hooks.signal);
    const aborted = await drive(spec, tally, drivers, hooks);
    const unfinished = drivers.reduce((n, d) => n + d.outstanding, 0);
    const elapsedMs = Math.max(0, tally.lastDoneAt - tally.measureStartAt);
    return {
      mode: spec.target.mode,
      target: describe(spec.target),
      method: spec.method,
      connections: spec.connections,
      channels: spec.channels,
      inFlight: spec.inFlight,
      elapsedMs: round(elapsedMs, 3),
      rps: elapsedMs > 0 ? round((tally.ok * 1000) / elapsedMs, 1) : 0,
      ok: tally.ok,
      errorCount: tally.errorCount,
      errors: Object.fromEntries([...tally.errors].sort((a, b) => b[1] - a[1])),
      unfinished,
      latencyMs: roundAll(tally.histogram.snapshot(1e-6), 4),
      warmup: { requests: tally.warmupRequests, errors: tally.warmupErrors },
      aborted,
    };
  } finally {
    tally.stopped = true;
    await Promise.all(endpoints.map((e) => e.close()));
  }
}

/** Opens every connection (a few at a time) and initializes every channel, under one deadline. */
async function setUp(
  spec: LoadSpec,
  tally: Tally,
  endpoints: Endpoint[],
  drivers: ChannelDriver[],
  signal: AbortSignal | undefined,
): Promise<void> {
  const abort = new AbortController();
  // One listener per connection and channel while they open, each removed once it is open.
  setMaxListeners(0, abort.signal);
  const onAbort = () => abort.abort();
  signal?.addEventListener('abort', onAbort, { once: true });
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    abort.abort();
  }, spec.connectTimeoutMs);
  const channels = spec.target.mode === 'ws' ? spec.channels : 1;
  let next = 0;
  const openOne = async (): Promise<void> => {
    const own = Array.from(
      { length: channels },
      () => new ChannelDriver(tally, spec.inFlight, spec.method, spec.params),
    );
    drivers.push(...own);
    const { target } = spec;
    const endpoint =
      target.mode === 'http'
        ? openHttpEndpoint(target.url, own[0]!, spec.headers, spec)
        : await openEndpoint(target, own, spec.headers, abort.signal, {
            coalesce: spec.writePerMessage !== true,
          });
    endpoints.push(endpoint);
    own.forEach((d, i) => d.attach(endpoint.senders[i]!));
    await Promise.all(own.map((d) => d.initialize(abort.signal)));
  };
  const worker = async (): Promise<void> => {
    while (next < spec.connections && !abort.signal.aborted) {
      next++;
      try {
        await openOne();
      } catch (err) {
        abort.abort(); // the other workers stop too
        throw err;
      }
    }
  };
  try {
    const workers = Array.from({ length: Math.min(OPEN_CONCURRENCY, spec.connections) }, worker);
    const failures = (await Promise.allSettled(workers)).flatMap((r) =>
      r.status === 'rejected' ? [r.reason as unknown] : [],
    );
    if (timedOut) {
      throw new ConnectError(
        'connect_timeout',
        `could not connect and initialize ${spec.connections} connection(s) within ${spec.connectTimeoutMs} ms`,
      );
    }
    if (signal?.aborted === true) throw new ConnectError('aborted', 'the load test was aborted');
    // The first real failure, not the 'aborted' it caused in the other workers.
    const first =
      failures.find((e) => !(e instanceof ConnectError && e.reason === 'aborted')) ?? failures[0];
    if (first !== undefined) {
      throw first instanceof Error ? first : new ConnectError('connect_failed', 'set-up failed');
    }
  } finally {
    clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
  }
}

/** Runs the load until every channel is idle (or the signal aborts); true when aborted. */
async function drive(
  spec: LoadSpec,
  tally: Tally,
  drivers: ChannelDriver[],
  hooks: LoadHooks,
): Promise<boolean> {
  const startedAt = performance.now();
  tally.measureStartAt = startedAt + spec.warmupMs;
  if (spec.durationMs !== undefined) tally.endAt = tally.measureStartAt + spec.durationMs;
  for (const d of drivers) d.start(startedAt);

  const interval = hooks.progressIntervalMs ?? 1000;
  let lastReportAt = startedAt;
  let lastDone = 0;
  const done = () => tally.ok + tally.warmupRequests - tally.warmupErrors;
  return new Promise<boolean>((resolve) => {
    const finish = (aborted: boolean) => {
      clearInterval(ticker);
      hooks.signal?.removeEventListener('abort', onAbort);
      tally.stopped = true;
      resolve(aborted);
    };
    const onAbort = () => finish(true);
    const tick = () => {
      const now = performance.now();
      for (const d of drivers) d.sweep(now, spec.timeoutMs);
      if (hooks.onProgress !== undefined && now - lastReportAt >= interval) {
        const h = tally.histogram;
        hooks.onProgress({
          elapsedMs: now - startedAt,
          phase:
            now < tally.measureStartAt ? 'warmup' : tally.mayIssue(now) ? 'measuring' : 'draining',
          ok: tally.ok,
          errors: tally.errorCount,
          recentRps: ((done() - lastDone) * 1000) / (now - lastReportAt),
          p50Ms: h.percentile(50) / 1e6,
          p99Ms: h.percentile(99) / 1e6,
        });
        lastReportAt = now;
        lastDone = done();
      }
      if (drivers.every((d) => d.isIdle(now))) finish(false);
    };
    const ticker = setInterval(tick, TICK_MS);
    if (hooks.signal?.aborted === true) return finish(true);
    hooks.signal?.addEventListener('abort', onAbort, { once: true });
  });
}
