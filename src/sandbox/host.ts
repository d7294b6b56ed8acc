// Facts about the host a spawn plan needs: are we root, who is `nobody`, and does bubblewrap work
// here. Read once (the bwrap probe runs one tiny sandbox, ~10 ms, at the first call).

import { spawnSync } from 'node:child_process';
import { accessSync, constants, readFileSync } from 'node:fs';

export interface HostInfo {
  readonly isRoot: boolean;
  readonly nobody: { readonly uid: number; readonly gid: number };
  /** Absolute path of a bwrap that passed the probe; undefined: isolation "namespaces" unavailable. */
  readonly bwrap?: string | undefined;
  /** Why bwrap is unavailable (not found, or the probe's error), for the start-up warning. */
  readonly bwrapProblem?: string | undefined;
}

const BWRAP_CANDIDATES = ['/usr/bin/bwrap', '/usr/local/bin/bwrap', '/bin/bwrap'];
const PROBE_TIMEOUT_MS = 5000;

let cached: HostInfo | undefined;

function lookup(file: string, name: string): number | undefined {
  try {
    for (const line of readFileSync(file, 'utf8').split('\n')) {
      const fields = line.split(':');
      if (fields[0] === name && fields[2] !== undefined) return Number(fields[2]);
    }
  } catch {
    // no such file: fall back to the conventional ids
  }
  return undefined;
}

/** Runs the namespaces the sandbox uses once with `true`: found and working, or why not. */
export function probeBwrap(candidates: readonly string[] = BWRAP_CANDIDATES): {
  bwrap?: string;
  problem?: string;
} {
  const bwrap = candidates.find((path) => {
    try {
      accessSync(path, constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
  if (bwrap === undefined) return { problem: 'bwrap not found' };
  const probe = spawnSync(
    bwrap,
    [
      ...['--die-with-parent', '--new-session', '--unshare-pid', '--unshare-ipc', '--unshare-uts'],
      ...['--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev'],
      // options an old bwrap lacks (--size: 0.7+) fail the probe rather than every spawn
      ...['--perms', '1777', '--size', '1048576', '--tmpfs', '/tmp', '--remount-ro', '/tmp'],
      ...['--cap-drop', 'ALL', '--', 'true'],
    ],
    { stdio: ['ignore', 'ignore', 'pipe'], timeout: PROBE_TIMEOUT_MS, encoding: 'utf8' },
  );
  if (probe.status === 0) return { bwrap };
  const why = probe.error?.message ?? probe.stderr.trim().slice(0, 300);
  return { problem: `${bwrap} does not work here: ${why || `exit ${String(probe.status)}`}` };
}

export function hostInfo(): HostInfo {
  if (cached !== undefined) return cached;
  const uid = lookup('/etc/passwd', 'nobody') ?? 65534;
  const gid = lookup('/etc/group', 'nogroup') ?? lookup('/etc/group', 'nobody') ?? uid;
  const { bwrap, problem } = probeBwrap();
  cached = { isRoot: process.getuid?.() === 0, nobody: { uid, gid }, bwrap, bwrapProblem: problem };
  return cached;
}
