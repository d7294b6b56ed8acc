// Renders a load test for people: the live progress line and the final table. PURE.

import type { LoadProgress, LoadResult } from './engine.js';

/** Milliseconds with three significant-ish digits: 0.123, 1.23, 12.3, 123. */
export function ms(value: number): string {
  if (value < 1) return value.toFixed(3);
  if (value < 10) return value.toFixed(2);
  if (value < 100) return value.toFixed(1);
  return value.toFixed(0);
}

function rate(value: number): string {
  return value >= 100 ? value.toFixed(0) : value.toFixed(1);
}

/** One line, meant to be redrawn in place on a terminal (`\r` + text + erase to end of line). */
export function progressLine(p: LoadProgress): string {
  const t = (p.elapsedMs / 1000).toFixed(1).padStart(5);
  return (
    `\r${t}s ${p.phase.padEnd(9)} ${rate(p.recentRps).padStart(8)} req/s  ok ${p.ok}  ` +
    `errors ${p.errors}  p50 ${ms(p.p50Ms)} ms  p99 ${ms(p.p99Ms)} ms\x1b[K`
  );
}

/** The error rate the exit status is judged by: errors / (ok + errors); 1 when nothing ended. */
export function errorRate(r: LoadResult): number {
  const total = r.ok + r.errorCount;
  return total === 0 ? 1 : r.errorCount / total;
}

export function resultTable(r: LoadResult): string {
  const l = r.latencyMs;
  const lines = [
    `mcpmux loadtest  ${r.mode}  ${r.target}  ${r.method}`,
    `  load        ${r.connections} ${r.mode === 'http' ? 'session' : 'connection'}(s) × ` +
      `${r.channels} channel(s) × ${r.inFlight} in flight` +
      (r.warmup.requests > 0 ? `, after a warm-up of ${r.warmup.requests} requests` : ''),
    `  measured    ${(r.elapsedMs / 1000).toFixed(2)} s${r.aborted ? ' (aborted)' : ''}`,
    `  requests    ${r.ok} ok, ${r.errorCount} errors` +
      (r.unfinished > 0 ? `, ${r.unfinished} unfinished` : '') +
      ` (${(errorRate(r) * 100).toFixed(2)} % errors)`,
    `  throughput  ${rate(r.rps)} req/s`,
    `  latency ms  p50 ${ms(l.p50)}  p90 ${ms(l.p90)}  p99 ${ms(l.p99)}  p99.9 ${ms(l.p999)}  ` +
      `max ${ms(l.max)}  (min ${ms(l.min)}, mean ${ms(l.mean)})`,
  ];
  const reasons = Object.entries(r.errors);
  if (reasons.length > 0) {
    const width = Math.max(...reasons.map(([k]) => k.length));
    lines.push('  errors by reason');
    for (const [reason, n] of reasons) lines.push(`    ${reason.padEnd(width)}  ${n}`);
  }
  return lines.join('\n') + '\n';
}
