// Summarises a V8 .cpuprofile (node --cpu-prof): self time per function and per file or
// package, largest first. PURE: takes the parsed JSON.

export interface CpuProfile {
  nodes: {
    id: number;
    callFrame: { functionName: string; url: string; lineNumber: number };
    hitCount?: number;
  }[];
  samples?: number[];
  timeDeltas?: number[];
  startTime: number;
  endTime: number;
}

export interface ProfileRow {
  name: string;
  selfMs: number;
  /** Share of all samples, idle included, in percent. */
  percent: number;
}

export interface ProfileSummary {
  totalMs: number;
  /** Time not idle (program, GC and everything else sampled). */
  busyMs: number;
  functions: ProfileRow[];
  files: ProfileRow[];
}

/** `node_modules/ws/lib/sender.js` → `ws`; `dist/http/x.js` → `dist/http/x.js`. */
function fileOf(url: string): string {
  if (url === '') return '(native)';
  const nm = url.lastIndexOf('/node_modules/');
  if (nm !== -1) {
    const rest = url.slice(nm + '/node_modules/'.length).split('/');
    return rest[0]!.startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0]!;
  }
  if (url.startsWith('node:')) return url;
  const dist = url.lastIndexOf('/dist/');
  return dist !== -1 ? url.slice(dist + 1) : url.replace(/^file:\/\//, '');
}

function top(map: Map<string, number>, totalMs: number, n: number): ProfileRow[] {
  return [...map]
    .sort((a, b) => b[1] - a[1])
    .slice(0, n)
    .map(([name, selfMs]) => ({ name, selfMs, percent: (selfMs / totalMs) * 100 }));
}

export function summariseProfile(profile: CpuProfile, n = 20): ProfileSummary {
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const selfUs = new Map<number, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    // A sample's time is the gap to the next one (V8 stores the gap before each sample).
    const us = deltas[i + 1] ?? 0;
    selfUs.set(samples[i]!, (selfUs.get(samples[i]!) ?? 0) + Math.max(0, us));
  }
  const functions = new Map<string, number>();
  const files = new Map<string, number>();
  let totalMs = 0;
  let idleMs = 0;
  for (const [id, us] of selfUs) {
    const frame = byId.get(id)?.callFrame;
    if (frame === undefined) continue;
    const ms = us / 1000;
    totalMs += ms;
    if (frame.functionName === '(idle)') idleMs += ms;
    const file = fileOf(frame.url);
    const name =
      frame.url === ''
        ? frame.functionName || '(anonymous)'
        : `${frame.functionName || '(anonymous)'} ${file}:${frame.lineNumber + 1}`;
    functions.set(name, (functions.get(name) ?? 0) + ms);
    if (frame.url !== '') files.set(file, (files.get(file) ?? 0) + ms);
  }
  return {
    totalMs,
    busyMs: totalMs - idleMs,
    functions: top(functions, totalMs, n),
    files: top(files, totalMs, n),
  };
}

export function formatProfile(s: ProfileSummary): string {
  const row = (r: ProfileRow) =>
    `  ${r.selfMs.toFixed(0).padStart(7)} ms ${r.percent.toFixed(1).padStart(5)} %  ${r.name}`;
  return [
    `profile: ${s.totalMs.toFixed(0)} ms sampled, ${s.busyMs.toFixed(0)} ms busy`,
    'top self time by function:',
    ...s.functions.map(row),
    'top self time by file or package:',
    ...s.files.map(row),
  ].join('\n');
}
