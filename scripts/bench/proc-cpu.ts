// CPU time of processes from /proc (Linux): utime + stime of /proc/<pid>/stat, in clock ticks.
// The bench reads it around the measured window of a load run to report the CPU each process
// (relay, its servers, the generator) spends per request.

import { readdirSync, readFileSync } from 'node:fs';

/** USER_HZ: the unit of utime/stime (100 on every Linux the bench runs on; `getconf CLK_TCK`). */
export const CLOCK_TICKS_PER_S = 100;

interface ProcStat {
  ppid: number;
  ticks: number;
}

/** Parses a /proc/<pid>/stat line: the fields after the command name (which may hold spaces). */
export function parseStat(text: string): ProcStat {
  const rest = text.slice(text.lastIndexOf(')') + 2).split(' ');
  // rest[0] is field 3 (state): ppid is field 4, utime 14, stime 15.
  return { ppid: Number(rest[1]), ticks: Number(rest[11]) + Number(rest[12]) };
}

function readStat(pid: number): ProcStat | undefined {
  try {
    return parseStat(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined; // gone meanwhile
  }
}

/** CPU ticks of `pid` itself. */
export function ownTicks(pid: number): number {
  return readStat(pid)?.ticks ?? 0;
}

/** CPU ticks of every live descendant of `pid` (its servers, sandbox helpers included). */
export function descendantTicks(pid: number): number {
  const stats = new Map<number, ProcStat>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    const stat = readStat(Number(name));
    if (stat !== undefined) stats.set(Number(name), stat);
  }
  const children = new Map<number, number[]>();
  for (const [child, { ppid }] of stats) {
    const list = children.get(ppid);
    if (list === undefined) children.set(ppid, [child]);
    else list.push(child);
  }
  let total = 0;
  const stack = [...(children.get(pid) ?? [])];
  while (stack.length > 0) {
    const p = stack.pop()!;
    total += stats.get(p)?.ticks ?? 0;
    stack.push(...(children.get(p) ?? []));
  }
  return total;
}

/** Microseconds of CPU per request for `ticks` spent over `requests`. */
export function microsPerRequest(ticks: number, requests: number): number {
  return requests > 0 ? (ticks * 1e6) / CLOCK_TICKS_PER_S / requests : NaN;
}
