// The bench's REST path (SPEC §10) on a running relay, serving the fixture as service "echo":
// warm calls at 1, 8 and 32 clients, the cached tools list, and what a cold call adds to the
// server's own start-up. Used by scripts/bench.ts.

import { tmpdir } from 'node:os';
import type { RestBench } from './bench-report.js';
import { HttpCaller } from './http-caller.js';
import { median, runRestCalls, serverStartMs, timedRequest } from './rest-load.js';

export interface RestBenchOptions {
  durationMs: number;
  warmupMs: number;
  /** Each call cell measured this many times; the fastest is kept. */
  repeat: number;
  /** The fixture as a command, to time its own start-up. */
  serverCommand: string[];
  log: (line: string) => void;
}

const round3 = (x: number) => Math.round(x * 1000) / 1000;
/** Cold calls (and server starts) whose medians are compared: each median of this many. */
const COLD_SAMPLES = 11;
/** Cached GET …/tools answers timed, one after another on one connection. */
const TOOLS_SAMPLES = 2000;

/** The REST path on a running relay: warm calls at 1, 8 and 32 clients, tools list, cold call. */
export async function measureRest(httpUrl: string, o: RestBenchOptions): Promise<RestBench> {
  const { durationMs, warmupMs, repeat, log } = o;
  const call = {} as RestBench['call'];
  for (const clients of [1, 8, 32] as const) {
    let best: RestBench['call']['c1'] | undefined;
    for (let i = 0; i < repeat; i++) {
      const r = await runRestCalls({
        baseUrl: httpUrl,
        service: 'echo',
        tool: 'echo',
        arguments: { text: 'hello, mcpmux' },
        clients,
        durationMs,
        warmupMs,
        sessionPrefix: `bench-c${clients}-${i}`,
      });
      if (Object.keys(r.errors).length > 0) {
        throw new Error(`REST c${clients}: ${JSON.stringify(r.errors)}`);
      }
      const cell = { rps: r.rps, p50_ms: r.p50_ms, p99_ms: r.p99_ms };
      log(`  rest   c${String(clients).padEnd(3)} ${JSON.stringify(cell)}`);
      if (best === undefined || cell.rps > best.rps) best = cell;
    }
    call[`c${clients}`] = best!;
  }

  // The first GET fills the cache (a server is started to list the tools): not measured. Then
  // enough answers that p99 is not just the second-worst one (this machine alone stalls a
  // loopback round trip for 2–4 ms about 3 times in 1000).
  const toolTimes: number[] = [];
  const lister = await HttpCaller.open(`${httpUrl}/services/echo/tools`, 'GET', '');
  try {
    const primed = await lister.call();
    if (primed.status !== 200) throw new Error(`GET tools: ${primed.status} ${primed.body}`);
    for (let i = 0; i < TOOLS_SAMPLES; i++) {
      const t0 = performance.now();
      const r = await lister.call();
      toolTimes.push(performance.now() - t0);
      if (r.status !== 200) throw new Error(`GET tools: ${r.status} ${r.body}`);
    }
  } finally {
    lister.close();
  }
  toolTimes.sort((a, b) => a - b);
  const tools = {
    p50_ms: round3(toolTimes[Math.floor(TOOLS_SAMPLES * 0.5)]!),
    p99_ms: round3(toolTimes[Math.floor(TOOLS_SAMPLES * 0.99)]!),
  };

  const firstCalls: number[] = [];
  const starts: number[] = [];
  for (let i = 0; i < COLD_SAMPLES; i++) {
    // the environment the relay's sandbox (restricted_env) gives its servers
    const env = { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C.UTF-8', HOME: tmpdir() };
    starts.push(await serverStartMs(o.serverCommand, env));
    const session = `bench-cold-${i}`;
    const body = JSON.stringify({ session_id: session, tool: 'echo', arguments: { text: 'x' } });
    const r = await timedRequest(`${httpUrl}/services/echo/call`, { method: 'POST', body });
    if (r.status !== 200) throw new Error(`cold call: ${r.status} ${r.body}`);
    firstCalls.push(r.ms);
    await timedRequest(`${httpUrl}/sessions/${session}`, { method: 'DELETE' });
  }
  const first = median(firstCalls);
  const start = median(starts);
  const cold = {
    first_call_ms: round3(first),
    server_start_ms: round3(start),
    added_ms: round3(first - start),
  };
  log(`  rest   tools ${JSON.stringify(tools)} cold ${JSON.stringify(cold)}`);
  return { call, tools, cold };
}
