// The bench's priority comparison (docs/operations.md "Latency"): the same warm REST load at 8 and
// 32 clients (one session, so one server process, per client) against a relay whose servers run
// at the relay's own priority and against one whose servers run at a lower one (sandbox.nice /
// sandbox.sched), plus the cold first call of each. Used by scripts/bench.ts.

import { runLoad } from '../../src/loadtest/engine.js';
import { descendantTicks, microsPerRequest, ownTicks } from './proc-cpu.js';
import { median, runRestCalls, timedRequest } from './rest-load.js';

/** CPU per call over the measured window (µs): the relay, its servers, the bench's generator. */
export interface CallCpu {
  relay: number;
  servers: number;
  generator: number;
}
export interface PriorityCell {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  cpu_us: CallCpu;
}
export interface PriorityRow {
  label: string;
  c8: PriorityCell;
  c32: PriorityCell;
  cold_first_call_ms: number;
}

const FLOOR_LABEL = 'no relay: stdio, one server per client';

/** The same closed-loop load with no relay: the generator pipes to one server per client. */
export interface FloorRow {
  c8: PriorityCell;
  c32: PriorityCell;
}

const COLD_SAMPLES = 7;
const round3 = (x: number) => Math.round(x * 1000) / 1000;

/** Warm REST calls at 8 and 32 clients (best p99 of `repeat`), and the median cold first call. */
export async function measurePriority(
  label: string,
  httpUrl: string,
  o: {
    durationMs: number;
    warmupMs: number;
    repeat: number;
    log: (line: string) => void;
    /** The relay's pid: CPU per call is read from /proc around each measured window. */
    pid: number;
  },
): Promise<PriorityRow> {
  const ticks = () => ({
    relay: ownTicks(o.pid),
    servers: descendantTicks(o.pid),
    generator: ownTicks(process.pid),
  });
  const cells = {} as Record<'c8' | 'c32', PriorityCell>;
  for (const clients of [8, 32] as const) {
    let best: PriorityCell | undefined;
    for (let i = 0; i < o.repeat; i++) {
      let start = ticks();
      let end = start;
      const r = await runRestCalls({
        baseUrl: httpUrl,
        service: 'echo',
        tool: 'echo',
        arguments: { text: 'hello, mcpmux' },
        clients,
        durationMs: o.durationMs,
        warmupMs: o.warmupMs,
        sessionPrefix: `prio-c${clients}-${i}`,
        onWindow: (edge) => (edge === 'start' ? (start = ticks()) : (end = ticks())),
      });
      if (Object.keys(r.errors).length > 0) {
        throw new Error(`priority ${label} c${clients}: ${JSON.stringify(r.errors)}`);
      }
      const per = (k: keyof CallCpu) =>
        Math.round(microsPerRequest(end[k] - start[k], r.ok) * 10) / 10;
      const cpu_us = { relay: per('relay'), servers: per('servers'), generator: per('generator') };
      const cell = { rps: r.rps, p50_ms: r.p50_ms, p99_ms: r.p99_ms, cpu_us };
      o.log(`  prio   ${label.padEnd(14)} c${String(clients).padEnd(3)} ${JSON.stringify(cell)}`);
      if (best === undefined || cell.p99_ms < best.p99_ms) best = cell;
    }
    cells[`c${clients}`] = best!;
  }
  const firstCalls: number[] = [];
  for (let i = 0; i < COLD_SAMPLES; i++) {
    const session = `prio-cold-${i}`;
    const body = JSON.stringify({ session_id: session, tool: 'echo', arguments: { text: 'x' } });
    const r = await timedRequest(`${httpUrl}/services/echo/call`, { method: 'POST', body });
    if (r.status !== 200) throw new Error(`cold call: ${r.status} ${r.body}`);
    firstCalls.push(r.ms);
    await timedRequest(`${httpUrl}/sessions/${session}`, { method: 'DELETE' });
  }
  return { label, ...cells, cold_first_call_ms: round3(median(firstCalls)) };
}

/**
 * The floor under the REST cells: 8 and 32 clients, one request in flight each, each client piping
 * straight to its own `command` server over stdio (no relay, no HTTP, no sandbox), best p99 of
 * `repeat`. CPU per call: the servers are this process's children, the generator this process.
 */
export async function measureFloor(
  command: string[],
  o: { durationMs: number; warmupMs: number; repeat: number; log: (line: string) => void },
): Promise<FloorRow> {
  const ticks = () => ({
    relay: 0,
    servers: descendantTicks(process.pid),
    generator: ownTicks(process.pid),
  });
  const cells = {} as Record<'c8' | 'c32', PriorityCell>;
  for (const clients of [8, 32] as const) {
    let best: PriorityCell | undefined;
    for (let i = 0; i < o.repeat; i++) {
      const w: { start?: ReturnType<typeof ticks>; end?: ReturnType<typeof ticks> } = {};
      const r = await runLoad(
        {
          target: { mode: 'stdio', command },
          connections: clients,
          channels: 1,
          inFlight: 1,
          durationMs: o.durationMs,
          warmupMs: Math.max(o.warmupMs, 100),
          method: 'tools/call',
          params: { name: 'echo', arguments: { text: 'hello, mcpmux' } },
          timeoutMs: 10_000,
          connectTimeoutMs: 15_000,
          headers: {},
        },
        {
          progressIntervalMs: 1,
          onProgress: (p) => {
            if (p.phase === 'measuring') w.start ??= ticks();
            if (p.phase === 'draining' && w.start !== undefined) w.end ??= ticks();
          },
        },
      );
      const { start, end } = w;
      if (r.errorCount > 0 || start === undefined || end === undefined) {
        throw new Error(`floor c${clients}: ${r.ok} ok, ${r.errorCount} errors, window not seen`);
      }
      const per = (k: keyof CallCpu) =>
        Math.round(microsPerRequest(end[k] - start[k], r.ok) * 10) / 10;
      const cell = {
        rps: Math.round(r.rps),
        p50_ms: round3(r.latencyMs.p50),
        p99_ms: round3(r.latencyMs.p99),
        cpu_us: { relay: 0, servers: per('servers'), generator: per('generator') },
      };
      o.log(`  prio   no relay (stdio)     c${String(clients).padEnd(3)} ${JSON.stringify(cell)}`);
      if (best === undefined || cell.p99_ms < best.p99_ms) best = cell;
    }
    cells[`c${clients}`] = best!;
  }
  return cells;
}

export function priorityTable(rows: readonly PriorityRow[], floor?: FloorRow): string {
  const cell = (c: PriorityCell) =>
    `${String(Math.round(c.rps)).padStart(6)}/s p50 ${c.p50_ms.toFixed(2).padStart(6)} p99 ${c.p99_ms.toFixed(2).padStart(6)}`;
  const all = [
    ...rows.map((r) => ({ ...r, cold: r.cold_first_call_ms.toFixed(1) })),
    ...(floor === undefined ? [] : [{ label: FLOOR_LABEL, ...floor, cold: '-' }]),
  ];
  const lines = [
    'REST warm calls by server priority (ms)   8 clients                          32 clients                          cold first call',
    ...all.map((r) => `  ${r.label.padEnd(38)} ${cell(r.c8)}   ${cell(r.c32)}   ${r.cold}`),
    '',
    'CPU per call at 32 clients (µs, /proc)   relay  servers  generator   mean latency = 32 / calls/s',
  ];
  for (const r of all) {
    const c = r.c32.cpu_us;
    const mean = (32 / r.c32.rps) * 1000;
    lines.push(
      `  ${r.label.padEnd(38)} ${c.relay.toFixed(0).padStart(5)} ${c.servers.toFixed(0).padStart(8)} ${c.generator.toFixed(0).padStart(10)}   ${mean.toFixed(2).padStart(6)} ms`,
    );
  }
  const worst = rows.at(-1);
  if (worst !== undefined) {
    const ok = worst.c32.p99_ms <= 10 ? 'met' : 'MISSED';
    const under =
      floor === undefined ? '' : ` (with no relay at all: p99 ${floor.c32.p99_ms.toFixed(2)} ms)`;
    lines.push(`  target: 32 clients p99 <= 10 ms with the default priority: ${ok}${under}`);
  }
  return lines.join('\n');
}
