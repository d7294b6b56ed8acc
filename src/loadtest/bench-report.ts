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
