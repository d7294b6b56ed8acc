// The benchmark's table and its SPEC §10 target checks (scripts/bench.ts). PURE.

export interface BenchCell {
  rps: number;
  p50_ms: number;
  p99_ms: number;
}
export type BenchPath = Record<'w1' | 'w32', BenchCell>;
export const BENCH_PATHS = ['direct', 'mcp', 'ws', 'supergateway'] as const;
export type BenchPathName = (typeof BENCH_PATHS)[number];
export type BenchResults = Record<BenchPathName, BenchPath>;

const LABEL: Record<BenchPathName, string> = {
  direct: 'direct stdio',
  mcp: 'relay /mcp/echo',
  ws: 'relay /ws',
  supergateway: 'supergateway ws',
};

/** rps, p50, p99 and the ratio to direct stdio for every path, 1 then 32 in flight. */
export function benchTable(results: BenchResults): string {
  const head = ['path'.padEnd(17), 'in flight', '   req/s', '  p50 ms', '  p99 ms', ' × direct'];
  const lines = [head.join(' ')];
  for (const w of ['w1', 'w32'] as const) {
    for (const path of BENCH_PATHS) {
      const c = results[path][w];
      const ratio = c.rps / results.direct[w].rps;
      lines.push(
        [
          LABEL[path].padEnd(17),
          w.slice(1).padStart(9),
          String(c.rps).padStart(8),
          c.p50_ms.toFixed(3).padStart(8),
          c.p99_ms.toFixed(3).padStart(8),
          ratio.toFixed(2).padStart(9),
        ].join(' '),
      );
    }
  }
  return lines.join('\n');
}

/** One line per SPEC §10 throughput target: met or MISS, with the measured ratio. */
export function benchTargets(results: BenchResults): string {
  const ratio = (p: BenchPathName, w: 'w1' | 'w32', base: BenchPathName) =>
    results[p][w].rps / results[base][w].rps;
  const check = (label: string, value: number, goal: number) =>
    `  ${value >= goal ? 'met ' : 'MISS'}  ${label}: ${value.toFixed(2)}× (target ≥ ${goal}×)`;
  return [
    'SPEC §10 targets:',
    check('/mcp vs direct, 1 in flight', ratio('mcp', 'w1', 'direct'), 0.6),
    check('/ws  vs direct, 1 in flight', ratio('ws', 'w1', 'direct'), 0.6),
    check('/mcp vs direct, 32 in flight', ratio('mcp', 'w32', 'direct'), 0.5),
    check('/ws  vs direct, 32 in flight', ratio('ws', 'w32', 'direct'), 0.5),
    check('/mcp vs supergateway, 32 in flight', ratio('mcp', 'w32', 'supergateway'), 3),
    check('/ws  vs supergateway, 32 in flight', ratio('ws', 'w32', 'supergateway'), 3),
  ].join('\n');
}

/** SPEC §10's memory target: the relay's own RSS grows by under 50 KB per open session. */
export function memoryTarget(rssPerSessionKb: number): string {
  const met = rssPerSessionKb < 50 ? 'met ' : 'MISS';
  return `  ${met}  relay memory: ${rssPerSessionKb} KB RSS per session (target < 50 KB)`;
}

/** The REST path (SPEC §10): warm-session calls by client count, the cached tools list, a cold call. */
export interface RestBench {
  call: Record<'c1' | 'c8' | 'c32', BenchCell>;
  tools: { p50_ms: number; p99_ms: number };
  cold: { first_call_ms: number; server_start_ms: number; added_ms: number };
}

/** What SPEC §10 says the SignalWire gateway reaches on this machine at best (not measured here). */
export const SIGNALWIRE_CALLS_PER_S = 810;

export function restTable(rest: RestBench): string {
  const lines = ['REST path          clients  calls/s   p50 ms   p99 ms'];
  for (const key of ['c1', 'c8', 'c32'] as const) {
    const c = rest.call[key];
    lines.push(
      [
        'POST …/call'.padEnd(17),
        key.slice(1).padStart(8),
        String(c.rps).padStart(8),
        c.p50_ms.toFixed(3).padStart(8),
        c.p99_ms.toFixed(3).padStart(8),
      ].join(' '),
    );
  }
  lines.push(
    `GET …/tools (cached): p50 ${rest.tools.p50_ms.toFixed(3)} ms, p99 ${rest.tools.p99_ms.toFixed(3)} ms`,
    `first call of a new session: ${rest.cold.first_call_ms.toFixed(1)} ms; the server's own ` +
      `start-up ${rest.cold.server_start_ms.toFixed(1)} ms; added ${rest.cold.added_ms.toFixed(1)} ms`,
  );
  return lines.join('\n');
}

/** One line per SPEC §10 REST target. */
export function restTargets(rest: RestBench): string {
  const line = (met: boolean, text: string) => `  ${met ? 'met ' : 'MISS'}  ${text}`;
  const { c1, c8, c32 } = rest.call;
  const sw = SIGNALWIRE_CALLS_PER_S;
  return [
    line(c1.rps >= 5000, `REST, 1 client: ${c1.rps} calls/s (target ≥ 5000)`),
    line(c1.p50_ms <= 0.3, `REST, 1 client: p50 ${c1.p50_ms.toFixed(3)} ms (target ≤ 0.3 ms)`),
    line(
      c8.rps >= 10 * sw,
      `REST, 8 clients: ${(c8.rps / sw).toFixed(1)}× SignalWire's best ${sw}/s (target ≥ 10×)`,
    ),
    line(
      c32.rps >= 10 * sw,
      `REST, 32 clients: ${(c32.rps / sw).toFixed(1)}× SignalWire's best ${sw}/s (target ≥ 10×)`,
    ),
    line(
      rest.tools.p99_ms <= 2,
      `GET tools: p99 ${rest.tools.p99_ms.toFixed(3)} ms (target ≤ 2 ms)`,
    ),
    line(
      rest.cold.added_ms <= 5,
      `cold call: +${rest.cold.added_ms.toFixed(1)} ms over the server's start-up (target ≤ 5 ms)`,
    ),
  ].join('\n');
}

// --- CPU per request (issue 17, SPEC §10 revised targets) --------------------------------------

/** CPU per request in µs of each process, at 32 in flight, over the measured window. */
export interface CpuCell {
  relay: number;
  server: number;
  generator: number;
  requests: number;
}
export const CPU_PATHS = ['mcp', 'ws', 'supergateway'] as const;
export type CpuPathName = (typeof CPU_PATHS)[number];
export type CpuWrites = 'coalesced' | 'per_message';
export type CpuResults = Record<CpuWrites, Record<CpuPathName, CpuCell>>;

const CPU_LABEL: Record<CpuPathName, string> = {
  mcp: 'relay /mcp/echo',
  ws: 'relay /ws',
  supergateway: 'supergateway ws',
};
const WRITES_LABEL: Record<CpuWrites, string> = {
  coalesced: 'coalesced',
  per_message: 'per message',
};

const us = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—').padStart(9);

/** µs of CPU per request by process (the relay column is supergateway's own for its row). */
export function cpuTable(cpu: CpuResults): string {
  const lines = [
    'CPU per request, 32 in flight (µs, from /proc utime+stime)',
    `${'path'.padEnd(17)} ${'writes'.padEnd(11)}     relay    server generator  requests`,
  ];
  for (const writes of ['coalesced', 'per_message'] as const) {
    for (const path of CPU_PATHS) {
      const c = cpu[writes][path];
      lines.push(
        `${CPU_LABEL[path].padEnd(17)} ${WRITES_LABEL[writes].padEnd(11)} ${us(c.relay)} ${us(c.server)} ${us(c.generator)} ${String(c.requests).padStart(9)}`,
      );
    }
  }
  return lines.join('\n');
}

/**
 * The CPU targets: the relay ≤ 0.5× supergateway on /mcp and /ws with either generator, and /ws
 * within 10 % of /mcp.
 */
export function cpuTargets(cpu: CpuResults): string {
  const lines = ['CPU targets (32 in flight):'];
  const line = (met: boolean, text: string) => lines.push(`  ${met ? 'met ' : 'MISS'}  ${text}`);
  for (const writes of ['coalesced', 'per_message'] as const) {
    const c = cpu[writes];
    const w = WRITES_LABEL[writes];
    for (const path of ['mcp', 'ws'] as const) {
      const ratio = c[path].relay / c.supergateway.relay;
      const name = path === 'mcp' ? '/mcp' : '/ws ';
      line(ratio <= 0.5, `${name} vs supergateway, ${w}: ${ratio.toFixed(2)}× (target ≤ 0.5×)`);
    }
    const ws = c.ws.relay / c.mcp.relay;
    line(ws <= 1.1, `/ws vs /mcp, ${w}: ${ws.toFixed(2)}× (target ≤ 1.10×)`);
  }
  return lines.join('\n');
}
