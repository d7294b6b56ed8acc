// The bench's Streamable HTTP part (scripts/bench.ts): the same cells as the WebSocket paths —
// 1 and 32 requests in flight on one MCP session, then CPU per request of each process at 32 —
// for the relay's POST /mcp/{service} and for supergateway --outputTransport streamableHttp
// --stateful, driven by `mcpmux loadtest --mode http`'s engine. A relay without the endpoint (a
// build before it landed) is reported as not measured, not as a failure.

import type { Target } from '../../src/loadtest/engine.js';
import type { BenchPath, CpuCell } from './bench-report.js';
import type { HttpPathResult, HttpResults, HttpSkipped } from './http-report.js';

export interface HttpBenchDeps {
  measurePath(target: Target): Promise<BenchPath>;
  /** CPU per request at 32 in flight; `pid` is the relay's or supergateway's. */
  measureCpu(target: Target, pid: number): Promise<CpuCell>;
  /** Starts supergateway --outputTransport streamableHttp --stateful; its endpoint URL. */
  startGateway(): Promise<{ url: string; pid: number; stop(): Promise<void> }>;
  log(line: string): void;
}

const PROBE_MS = 10_000;

/** Measures one Streamable HTTP endpoint served by process `pid`. */
export async function measureHttpPath(
  url: string,
  pid: number,
  deps: HttpBenchDeps,
): Promise<HttpPathResult> {
  const target: Target = { mode: 'http', url };
  const { w1, w32 } = await deps.measurePath(target);
  return { w1, w32, cpu: await deps.measureCpu(target, pid) };
}

/** The relay's POST /mcp/echo on a running relay, or why this build cannot be measured. */
export async function measureRelayHttp(
  relayUrl: string,
  pid: number,
  deps: HttpBenchDeps,
): Promise<HttpResults['relay']> {
  const url = `${relayUrl}/mcp/echo`;
  const missing = await servesStreamableHttp(url);
  if (missing !== undefined) {
    deps.log(`  http   relay ${url}: not measured (${missing})`);
    return skipped(missing);
  }
  return measureHttpPath(url, pid, deps);
}

/** supergateway streamableHttp --stateful: started, measured and stopped. */
export async function measureGatewayHttp(
  deps: HttpBenchDeps,
): Promise<HttpResults['supergateway']> {
  const gateway = await deps.startGateway();
  try {
    return await measureHttpPath(gateway.url, gateway.pid, deps);
  } finally {
    await gateway.stop();
  }
}

/**
 * Whether `url` serves Streamable HTTP: an `initialize` POST answered 2xx with an Mcp-Session-Id
 * (that session is DELETEd again). Undefined when it does; otherwise why not.
 */
export async function servesStreamableHttp(url: string): Promise<string | undefined> {
  const init = {
    jsonrpc: '2.0',
    id: 0,
    method: 'initialize',
    params: {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 'mcpmux-bench-probe', version: '1' },
    },
  };
  let res: Response;
  try {
    res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        accept: 'application/json, text/event-stream',
      },
      body: JSON.stringify(init),
      signal: AbortSignal.timeout(PROBE_MS),
    });
    await res.text();
  } catch (err) {
    return `POST initialize failed: ${(err as Error).message}`;
  }
  const session = res.headers.get('mcp-session-id');
  if (!res.ok || session === null) {
    return `POST initialize answered HTTP ${res.status}${session === null ? ' without Mcp-Session-Id' : ''}`;
  }
  await fetch(url, {
    method: 'DELETE',
    headers: { 'mcp-session-id': session, 'mcp-protocol-version': '2025-11-25' },
    signal: AbortSignal.timeout(PROBE_MS),
  }).then(
    (r) => r.text(),
    () => undefined,
  );
  return undefined;
}

/** The skip marker for a path that was not measured. */
export const skipped = (why: string): HttpSkipped => ({ skipped: why });
