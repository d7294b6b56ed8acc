// The REST path's load (SPEC §10, used by `npm run bench`): closed-loop HTTP clients, each on its
// own keep-alive connection and its own warm session, calling POST /services/{name}/call; single
// timed requests for the cold first call and the cached tools list; and a stdio server's own
// start-up, to tell what a cold call adds to it.

import { spawn } from 'node:child_process';
import { request } from 'node:http';
import { performance } from 'node:perf_hooks';
import { Histogram } from '../../src/loadtest/histogram.js';
import { HttpCaller } from './http-caller.js';

export interface TimedResponse {
  status: number;
  body: string;
  ms: number;
}

const REQUEST_TIMEOUT_MS = 30_000;

/** One HTTP request on a new connection, under a deadline; resolves with status, body and time. */
export function timedRequest(
  url: string,
  options: { method: string; body?: string; headers?: Record<string, string> },
): Promise<TimedResponse> {
  return new Promise((resolve, reject) => {
    const start = performance.now();
    const req = request(
      url,
      {
        method: options.method,
        agent: false, // a connection of its own: cold calls and DELETEs, never the hot loop
        headers: {
          ...options.headers,
          ...(options.body !== undefined && {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(options.body),
          }),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            body: Buffer.concat(chunks).toString('utf8'),
            ms: performance.now() - start,
          }),
        );
        res.on('error', reject);
      },
    );
    req.setTimeout(REQUEST_TIMEOUT_MS, () =>
      req.destroy(new Error(`no answer from ${url} in ${REQUEST_TIMEOUT_MS} ms`)),
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

export interface RestCallSpec {
  /** The relay's http(s) base URL, without a trailing slash. */
  baseUrl: string;
  service: string;
  tool: string;
  arguments: Record<string, unknown>;
  clients: number;
  durationMs: number;
  warmupMs: number;
  /** Client i uses session `${sessionPrefix}-${i}`. */
  sessionPrefix: string;
  headers?: Record<string, string>;
  /** Called when the measured window starts and when it ends (e.g. to read CPU counters). */
  onWindow?: (edge: 'start' | 'end') => void;
}

export interface RestCallResult {
  clients: number;
  rps: number;
  p50_ms: number;
  p99_ms: number;
  ok: number;
  /** Non-200 answers, by status (a lost connection fails the whole run instead). */
  errors: Record<string, number>;
}

/** `clients` callers, each calling again as soon as its answer is read; warm-up not counted. */
export async function runRestCalls(spec: RestCallSpec): Promise<RestCallResult> {
  const url = `${spec.baseUrl}/services/${encodeURIComponent(spec.service)}/call`;
  const histogram = new Histogram();
  const errors: Record<string, number> = {};
  const headers = spec.headers ?? {};
  const callers: HttpCaller[] = [];
  let ok = 0;
  let measuring = false;
  let running = true;
  let warm = 0;
  let allWarm!: () => void;
  const warmed = new Promise<void>((resolve) => (allWarm = resolve));
  let failure: Error | undefined;

  const client = async (i: number) => {
    const body = JSON.stringify({
      session_id: `${spec.sessionPrefix}-${i}`,
      tool: spec.tool,
      arguments: spec.arguments,
    });
    const caller = await HttpCaller.open(url, 'POST', body, headers);
    callers.push(caller);
    const call = async (): Promise<TimedResponse> => {
      const start = performance.now();
      const answer = await caller.call();
      return { ...answer, ms: performance.now() - start };
    };
    const first = await call(); // starts the session: never measured
    if (first.status !== 200) throw new Error(`REST first call: ${first.status} ${first.body}`);
    if (++warm === spec.clients) allWarm();
    await warmed;
    while (running) {
      const r = await call(); // a lost connection fails the run
      if (!measuring) continue;
      if (r.status === 200) {
        ok++;
        histogram.record(r.ms * 1e6); // ns, as the WebSocket load records
      } else errors[String(r.status)] = (errors[String(r.status)] ?? 0) + 1;
    }
  };

  const stop = (err?: Error) => {
    failure ??= err;
    running = false;
    allWarm(); // release clients still waiting for the others
  };
  const clients = Array.from({ length: spec.clients }, (_, i) =>
    client(i).catch((err: unknown) => stop(err as Error)),
  );
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  let measuredMs = 0;
  try {
    await warmed; // every session started before the clock starts
    if (running) {
      await sleep(spec.warmupMs);
      measuring = running;
      spec.onWindow?.('start');
      const t0 = performance.now();
      await sleep(spec.durationMs);
      measuring = false;
      measuredMs = performance.now() - t0;
      spec.onWindow?.('end');
    }
    stop();
    await Promise.all(clients);
  } finally {
    stop();
    for (const caller of callers) caller.close();
  }
  if (failure !== undefined) throw failure;
  return {
    clients: spec.clients,
    rps: Math.round(ok / (measuredMs / 1000)),
    p50_ms: round3(histogram.percentile(50) / 1e6),
    p99_ms: round3(histogram.percentile(99) / 1e6),
    ok,
    errors,
  };
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Median of `ms` values. */
export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * A stdio server's own start-up: from spawn to its answer to `initialize` (what any cold session
 * must pay), in ms. The process is killed afterwards. Give it the environment the relay's sandbox
 * gives (PATH, LANG, HOME): variables such as NODE_EXTRA_CA_CERTS change a Node server's start-up.
 */
export async function serverStartMs(
  command: string[],
  env: Record<string, string>,
): Promise<number> {
  const start = performance.now();
  const child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'ignore'], env });
  const exited = new Promise((resolve) => {
    child.once('exit', resolve);
    child.once('error', resolve); // never spawned: no 'exit' follows
  });
  try {
    const answered = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error('the server did not answer initialize in 30 s')),
        REQUEST_TIMEOUT_MS,
      );
      child.once('error', reject);
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (chunk: string) => {
        if (!chunk.includes('"id":1')) return;
        clearTimeout(timer);
        resolve(performance.now() - start);
      });
    });
    child.stdin.write(
      JSON.stringify({
        jsonrpc: '2.0',
        id: 1,
        method: 'initialize',
        params: {
          protocolVersion: '2025-06-18',
          capabilities: {},
          clientInfo: { name: 'mcpmux-bench', version: '1' },
        },
      }) + '\n',
    );
    return await answered;
  } finally {
    if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited;
    }
  }
}
