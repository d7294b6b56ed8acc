// PURE: the isolation level a session gets, and the bubblewrap (`bwrap`) options of the
// "namespaces" level (docs/operations.md, "Threat model"): own PID, mount, IPC and UTS namespaces
// (and network with network: "none"); the system read-only; a private /tmp; sandbox_dir replaced by
// an empty directory in which only this session's directory is bound; the relay's config file
// replaced by an empty file; no capabilities.

import type { SandboxConfig } from '../config/types.js';

export type IsolationLevel = 'namespaces' | 'rlimits' | 'none';

/** The private /tmp of a namespaced session is a tmpfs of this size (memory-backed). */
export const PRIVATE_TMP_BYTES = 64 * 1024 * 1024;
/** sandbox_dir inside the sandbox: an empty tmpfs holding only mount points. */
const SANDBOX_DIR_TMPFS_BYTES = 1024 * 1024;

/**
 * The level a service gets on this host; undefined when it needs "namespaces" (asked for, or
 * network "none" under "auto") and bubblewrap is not usable: the relay refuses to start rather
 * than silently isolate less.
 */
export function resolveIsolation(
  sandbox: SandboxConfig,
  bwrapUsable: boolean,
): IsolationLevel | undefined {
  if (!sandbox.enabled || sandbox.isolation === 'none') return 'none';
  if (sandbox.isolation === 'rlimits') return 'rlimits';
  if (bwrapUsable) return 'namespaces';
  return sandbox.isolation === 'auto' && sandbox.network !== 'none' ? 'rlimits' : undefined;
}

export interface NamespaceContext {
  /** session.sandbox_dir: hidden inside, except for the session's own directory. */
  readonly sandboxDir: string;
  /** The session's own directory (HOME), bound writable at the same path. */
  readonly sessionDir: string;
  /** The process's working directory inside. */
  readonly cwd: string;
  /** Files replaced by an empty one inside (the relay's config file). */
  readonly hide: readonly string[];
  /**
   * Host paths below /tmp that stay visible, read-only, over the private /tmp: the relay's working
   * directory and the directories of the command's absolute paths, when they are there (a relay
   * run from a checkout in /tmp). Outside /tmp everything is visible read-only anyway.
   */
  readonly keep?: readonly string[];
  /** True when an inner setpriv must switch uid (it keeps CAP_SETUID/SETGID/SETPCAP for that). */
  readonly switchesUid: boolean;
}

/** True when `path` is `dir` or below it. */
export function isWithin(path: string, dir: string): boolean {
  const base = dir.endsWith('/') ? dir : `${dir}/`;
  return path === dir || path.startsWith(base);
}

/** Parses one `sandbox.binds` entry: `PATH`, `PATH:ro` or `PATH:rw`. */
export function parseBind(entry: string): { path: string; writable: boolean } {
  const match = /^(\/[^:]*?)(?::(ro|rw))?$/.exec(entry);
  if (match === null) throw new RangeError(`bad sandbox bind: ${entry}`);
  return { path: match[1]!, writable: match[2] === 'rw' };
}

/**
 * Run inside, after setpriv: enters the working directory and drops PWD (bwrap sets it; the
 * restricted environment has no PWD).
 */
export function innerPrefix(cwd: string): string[] {
  return ['env', '-u', 'PWD', '-C', cwd, '--'];
}

/** Directories strictly between `top` and `path` (exclusive of both), outermost first. */
function dirsBetween(top: string, path: string): string[] {
  const out: string[] = [];
  const parts = path.slice(top.length).split('/').filter(Boolean);
  let current = top.replace(/\/$/, '');
  for (const part of parts.slice(0, -1)) {
    current = `${current}/${part}`;
    out.push(current);
  }
  return out;
}

/** bwrap's options (up to, not including, its `--`). */
export function planNamespaceArgs(sandbox: SandboxConfig, ctx: NamespaceContext): string[] {
  const args = ['--die-with-parent', '--new-session'];
  args.push('--unshare-pid', '--unshare-ipc', '--unshare-uts', '--hostname', 'mcpmux');
  if (sandbox.network === 'none') args.push('--unshare-net');
  args.push('--ro-bind', '/', '/', '--proc', '/proc', '--dev', '/dev');
  args.push('--perms', '1777', '--size', String(PRIVATE_TMP_BYTES), '--tmpfs', '/tmp');
  const keep = (ctx.keep ?? []).filter((path) => isWithin(path, '/tmp') && path !== '/tmp');
  for (const path of keep) args.push('--ro-bind-try', path, path);
  const visible = (path: string) =>
    !isWithin(path, '/tmp') || keep.some((kept) => isWithin(path, kept));
  // The working directory and the operator's binds come before sandbox_dir is hidden, so that no
  // bind of a directory holding sandbox_dir shows the other sessions again.
  if (ctx.cwd !== ctx.sessionDir) args.push('--ro-bind', ctx.cwd, ctx.cwd);
  for (const entry of sandbox.binds) {
    const { path, writable } = parseBind(entry);
    args.push(writable ? '--bind' : '--ro-bind', path, path);
  }
  // Directories bwrap would create for a mount point below /tmp are 0700 root: make the path to
  // sandbox_dir traversable, then sandbox_dir itself an empty 0711 directory (not listable).
  if (!visible(ctx.sandboxDir)) {
    for (const dir of dirsBetween('/tmp', ctx.sandboxDir)) args.push('--dir', dir);
  }
  args.push('--perms', '0711', '--size', String(SANDBOX_DIR_TMPFS_BYTES));
  args.push('--tmpfs', ctx.sandboxDir);
  args.push('--bind', ctx.sessionDir, ctx.sessionDir, '--remount-ro', ctx.sandboxDir);
  // Last, so that no bind above shows them again.
  for (const file of ctx.hide) {
    if (!visible(file) || isWithin(file, ctx.sandboxDir)) continue; // already gone
    args.push('--ro-bind', '/dev/null', file);
  }
  args.push('--cap-drop', 'ALL');
  if (ctx.switchesUid) {
    args.push('--cap-add', 'CAP_SETUID', '--cap-add', 'CAP_SETGID', '--cap-add', 'CAP_SETPCAP');
  }
  // bwrap (root without capabilities) may not enter a directory owned by the session's uid: the
  // inner `env -C` does, after the uid switch (see innerPrefix).
  args.push('--chdir', '/');
  return args;
}
