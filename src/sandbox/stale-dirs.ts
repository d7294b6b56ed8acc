// Session directories left in session.sandbox_dir by an earlier run that did not stop its
// sessions (a crash, SIGKILL, a second signal): found at start and removed off the event loop.
//
// Only direct entries named like a session directory (`<service>-<uuid>`, as MCPClient names them)
// that are real directories (lstat: a symlink is never followed nor removed) are touched; anything
// else in sandbox_dir is left alone. A relay marks the directory with a pid file while it runs;
// when that file names another live node process (or another live relay in this process), another
// relay uses the directory and nothing is swept (two relays should not share a sandbox_dir; this
// only keeps one from emptying the other's).

import { readFileSync } from 'node:fs';
import { lstat, mkdir, readFile, readdir, rm, unlink, writeFile } from 'node:fs/promises';
import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import type { Logger } from '../log.js';

/** `<service name>-<uuid v4>`: the session directory naming of MCPClient. */
export const SESSION_DIR_PATTERN =
  /^[A-Za-z0-9_.-]{1,64}-[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** The owning relay's pid, in sandbox_dir while it runs. */
export const OWNER_FILE = '.mcpmux-relay.pid';

/** How long one sweep may take before the rest is left for the next start. */
export const SWEEP_DEADLINE_MS = 10_000;

export interface SweepResult {
  /** Stale session directories removed. */
  removed: number;
  /** Set when nothing was swept: why. */
  skipped?: string;
}

/**
 * True when `pid` may be a running relay: the process exists (EPERM: it exists, it is not ours)
 * and, where /proc tells, runs node. A crashed relay's pid taken by, say, a shell does not count.
 */
export function relayMayRun(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EPERM') return false;
  }
  try {
    return /node|mcpmux/.test(readFileSync(`/proc/${pid}/cmdline`, 'utf8'));
  } catch {
    return true; // no /proc: assume it is one
  }
}

/** The claims of the relays running in this process (several in one test process). */
const liveClaims = new Set<string>();

interface Owner {
  pid: number;
  claim: string;
}

async function readOwner(file: string): Promise<Owner | undefined> {
  const [pid, claim] = (await readFile(file, 'utf8').catch(() => '')).trim().split(' ');
  const n = Number.parseInt(pid ?? '', 10);
  return Number.isInteger(n) && claim !== undefined ? { pid: n, claim } : undefined;
}

/**
 * Claims `dir` for this relay (pid file) and lists the stale session directories in it: every
 * entry named like a session directory that is a real directory. Nothing when another live relay
 * owns `dir`. Call before this relay spawns anything, so none of the names is one of its own.
 * Returns the claim to give back with releaseSandboxDir.
 */
export async function claimSandboxDir(
  dir: string,
): Promise<{ claim: string; stale: string[]; skipped?: string }> {
  await mkdir(dir, { recursive: true });
  const ownerFile = join(dir, OWNER_FILE);
  const owner = await readOwner(ownerFile);
  const claim = randomUUID();
  if (owner !== undefined) {
    const mine = owner.pid === process.pid;
    if (mine ? liveClaims.has(owner.claim) : relayMayRun(owner.pid)) {
      const skipped = `another relay (pid ${owner.pid}) uses this sandbox_dir`;
      return { claim, stale: [], skipped };
    }
  }
  liveClaims.add(claim);
  await writeFile(ownerFile, `${process.pid} ${claim}\n`);
  const stale: string[] = [];
  for (const name of await readdir(dir)) {
    if (!SESSION_DIR_PATTERN.test(name)) continue;
    const info = await lstat(join(dir, name)).catch(() => undefined);
    if (info?.isDirectory() === true) stale.push(name);
  }
  return { claim, stale };
}

/** Removes `names` under `dir` (thread pool; a symlink inside is unlinked, never followed). */
export async function removeStale(
  dir: string,
  names: readonly string[],
  deadlineMs = SWEEP_DEADLINE_MS,
): Promise<number> {
  let removed = 0;
  let timer: NodeJS.Timeout | undefined;
  const giveUp = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, deadlineMs);
    timer.unref();
  });
  const all = Promise.all(
    names.map((name) =>
      rm(join(dir, name), { recursive: true, force: true }).then(
        () => removed++,
        () => undefined,
      ),
    ),
  );
  try {
    await Promise.race([all, giveUp]);
  } finally {
    clearTimeout(timer);
  }
  return removed;
}

/** Gives the directory up at shutdown (the pid file only if it still holds this claim). */
export async function releaseSandboxDir(dir: string, claim: string): Promise<void> {
  if (!liveClaims.delete(claim)) return;
  const ownerFile = join(dir, OWNER_FILE);
  const owner = await readOwner(ownerFile);
  if (owner?.claim === claim) await unlink(ownerFile).catch(() => undefined);
}

/**
 * At relay start: claims `dir` and removes the session directories an earlier run left there, on
 * the thread pool in the background (a large one must not delay readiness). Never throws; the
 * claim to release at shutdown, or undefined when the directory is not this relay's.
 */
export async function sweepSandboxDir(dir: string, log: Logger): Promise<string | undefined> {
  try {
    const { claim, stale, skipped } = await claimSandboxDir(dir);
    if (skipped !== undefined) {
      log.warn({ sandbox_dir: dir }, `stale session directories not removed: ${skipped}`);
      return undefined;
    }
    if (stale.length > 0) {
      void removeStale(dir, stale).then((removed) =>
        log.info(
          { sandbox_dir: dir, removed, found: stale.length },
          'stale session directories removed',
        ),
      );
    }
    return claim;
  } catch (err) {
    log.warn({ sandbox_dir: dir, err: (err as Error).message }, 'sandbox_dir not swept');
    return undefined;
  }
}
