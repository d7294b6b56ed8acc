// What the relay reads about a bwrap process from outside (isolation "namespaces"): the sandbox's
// init below it, and the signal meant by its exit code.

import { readFileSync } from 'node:fs';
import { constants as os } from 'node:os';

/** The signal bwrap means by exit code 128 + N, if any. */
export function signalOfCode(code: number | null): NodeJS.Signals | undefined {
  if (code === null || code <= 128) return undefined;
  const entry = Object.entries(os.signals).find(([, n]) => n === code - 128);
  return entry?.[0] as NodeJS.Signals | undefined;
}

/** The first child of `pid` (bwrap's sandbox init), from /proc; undefined when there is none. */
export function sandboxInit(pid: number): number | undefined {
  try {
    const first = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0];
    return first === undefined || first === '' ? undefined : Number(first);
  } catch {
    return undefined;
  }
}
