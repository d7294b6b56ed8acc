// The bench's SPEC §10 target lines: met or MISS decided by the measured figures.

import { expect } from 'chai';
import {
  benchTargets,
  cpuTable,
  cpuTargets,
  memoryTarget,
  type CpuResults,
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

  it('CPU per request: the table by process and writes, the targets met or MISS', function () {
    const cell = (relay: number) => ({ relay, server: 8, generator: 12.25, requests: 30_000 });
    const cpu: CpuResults = {
      coalesced: { mcp: cell(9), ws: cell(9.9), supergateway: cell(18) }, // 0.50×, 0.55×, 1.10×
      per_message: { mcp: cell(10), ws: cell(12), supergateway: cell(20) }, // 0.50×, 0.60×, 1.20×
    };
    const table = cpuTable(cpu).split('\n');
    expect(table).to.have.length(8);
    expect(table[2]).to.match(/^relay \/mcp\/echo\s+coalesced\s+9\.0\s+8\.0\s+12\.3\s+30000$/);
    expect(table[7]).to.match(/^supergateway ws\s+per message\s+20\.0 /);
    const lines = cpuTargets(cpu).split('\n');
    const find = (text: string) => lines.find((l) => l.includes(text));
    expect(find('/mcp vs supergateway, coalesced')).to.match(/met .*0\.50×/);
    expect(find('/ws  vs supergateway, coalesced')).to.match(/MISS .*0\.55×/);
    expect(find('/ws vs /mcp, coalesced')).to.match(/met .*1\.10×/);
    expect(find('/ws vs /mcp, per message')).to.match(/MISS .*1\.20×/);
  });
});
