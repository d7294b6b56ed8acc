// The bench's Streamable HTTP table (scripts/bench.ts): the relay's POST /mcp/{service} beside
// supergateway's --outputTransport streamableHttp, throughput, latency and CPU per request. PURE.

import type { BenchCell, CpuCell } from './bench-report.js';

/** One HTTP path: 1 and 32 requests in flight on one MCP session, and CPU per request at 32. */
export interface HttpPathResult {
  w1: BenchCell;
  w32: BenchCell;
  cpu: CpuCell;
}

/** A path that could not be measured, and why (e.g. a relay without the HTTP endpoint). */
export interface HttpSkipped {
  skipped: string;
}

export const HTTP_PATHS = ['relay', 'supergateway'] as const;
export type HttpPathName = (typeof HTTP_PATHS)[number];
export type HttpResults = Record<HttpPathName, HttpPathResult | HttpSkipped>;

const LABEL: Record<HttpPathName, string> = {
  relay: 'relay POST /mcp/echo',
  supergateway: 'supergateway shttp',
};

const measured = (r: HttpPathResult | HttpSkipped): r is HttpPathResult => !('skipped' in r);
const us = (x: number) => (Number.isFinite(x) ? x.toFixed(1) : '—').padStart(9);

export function httpTable(results: HttpResults): string {
  const lines = [
    'Streamable HTTP, 1 session (one POST per request, keep-alive)',
    `${'path'.padEnd(20)} in flight    req/s   p50 ms   p99 ms`,
  ];
  for (const w of ['w1', 'w32'] as const) {
    for (const path of HTTP_PATHS) {
      const r = results[path];
      const head = `${LABEL[path].padEnd(20)} ${w.slice(1).padStart(9)}`;
      if (!measured(r)) {
        lines.push(`${head}  not measured: ${r.skipped}`);
        continue;
      }
      const c = r[w];
      lines.push(
        `${head} ${String(c.rps).padStart(8)} ${c.p50_ms.toFixed(3).padStart(8)} ${c.p99_ms.toFixed(3).padStart(8)}`,
      );
    }
  }
  lines.push(
    '',
    'CPU per request over HTTP, 32 in flight (µs, from /proc utime+stime)',
    `${'path'.padEnd(20)}     relay    server generator  requests`,
  );
  for (const path of HTTP_PATHS) {
    const r = results[path];
    if (!measured(r)) {
      lines.push(`${LABEL[path].padEnd(20)}  not measured: ${r.skipped}`);
      continue;
    }
    const c = r.cpu;
    lines.push(
      `${LABEL[path].padEnd(20)} ${us(c.relay)} ${us(c.server)} ${us(c.generator)} ${String(c.requests).padStart(9)}`,
    );
  }
  const { relay, supergateway } = results;
  if (measured(relay) && measured(supergateway)) {
    const x = (a: number, b: number) => `${(a / b).toFixed(2)}×`;
    lines.push(
      '',
      `relay vs supergateway over HTTP: req/s ${x(relay.w1.rps, supergateway.w1.rps)} at 1 in ` +
        `flight, ${x(relay.w32.rps, supergateway.w32.rps)} at 32; relay CPU per request ` +
        `${x(relay.cpu.relay, supergateway.cpu.relay)} supergateway's`,
    );
  }
  return lines.join('\n');
}
