// The bench's SPEC §10 target lines: met or MISS decided by the measured figures.

import { expect } from 'chai';
import {
  benchTargets,
  memoryTarget,
  type BenchPath,
  type BenchResults,
} from '../../scripts/bench/bench-report.js';

const path = (w1: number, w32: number): BenchPath => ({
  w1: { rps: w1, p50_ms: 0.1, p99_ms: 0.2 },
  w32: { rps: w32, p50_ms: 0.2, p99_ms: 0.4 },
});

describe('bench target lines', function () {
  it('memory: met under 50 KB per session, MISS at 50 and above', function () {
    expect(memoryTarget(29)).to.match(/^\s+met\s+relay memory: 29 KB RSS per session/);
    expect(memoryTarget(50)).to.match(/^\s+MISS\s+relay memory: 50 KB/);
  });

  it('throughput: each ratio checked against its own target', function () {
    const results: BenchResults = {
      direct: path(10_000, 100_000),
      mcp: path(6_000, 49_000), // 0.6× met at 1, 0.49× missed at 32
      ws: path(5_900, 50_000),
      supergateway: path(5_000, 16_000), // mcp 3.06× met, ws 3.125× met
    };
    const lines = benchTargets(results).split('\n');
    expect(lines.find((l) => l.includes('/mcp vs direct, 1 in'))).to.match(/met .*0\.60×/);
    expect(lines.find((l) => l.includes('/ws  vs direct, 1 in'))).to.match(/MISS .*0\.59×/);
    expect(lines.find((l) => l.includes('/mcp vs direct, 32'))).to.match(/MISS .*0\.49×/);
    expect(lines.find((l) => l.includes('/ws  vs direct, 32'))).to.match(/met .*0\.50×/);
    expect(lines.find((l) => l.includes('/mcp vs supergateway'))).to.match(/met .*3\.06×/);
  });
});
