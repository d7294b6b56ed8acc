// What ManagedChild looks up about a process from outside: where its program is (before the
// spawn), and under isolation "namespaces" the sandbox's init below bwrap and the signal meant by
// bwrap's exit code.

import { accessSync, constants, readFileSync } from 'node:fs';
import { constants as os } from 'node:os';
import { delimiter, isAbsolute, join } from 'node:path';

/** Finds `program` the way execvp would, with the PATH the child will see. */
export function resolveProgram(
  program: string,
  env: Readonly<Record<string, string>>,
  cwd: string,
) {
  const candidates = program.includes('/')
    ? [isAbsolute(program) ? program : join(cwd, program)]
    : (env.PATH ?? '')
        .split(delimiter)
        .filter(Boolean)
        .map((dir) => join(dir, program));
  for (const candidate of candidates) {
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

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
