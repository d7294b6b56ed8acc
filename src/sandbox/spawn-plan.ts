// PURE: turns a service's configuration into exactly what to execute — program, argv, env, cwd —
// including the wrappers that apply the sandbox (docs/operations.md, "Sandbox"): setpriv, bwrap (isolation
// "namespaces", see namespace-plan.ts), prlimit. No I/O, no clock: the caller passes in the relay's
// environment, whether it is root, the uid/gid to drop to, and what the host offers.

import type { SandboxConfig, ServiceConfig } from '../config/types.js';
import { dirname } from 'node:path';
import { innerPrefix, isWithin, planNamespaceArgs, type IsolationLevel } from './namespace-plan.js';

/** Never inherited from the relay's own environment (a service's `env` may still set them). */
export const DANGEROUS_ENV = ['LD_PRELOAD', 'LD_LIBRARY_PATH', 'NODE_OPTIONS'] as const;
const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';
const MIB = 1024 * 1024;

export interface SpawnContext {
  /** The relay's own environment. */
  readonly parentEnv: Readonly<Record<string, string | undefined>>;
  /** The relay's working directory (cwd when the sandbox is off and no working_dir is set). */
  readonly parentCwd: string;
  /** The session's private directory (HOME); undefined when the sandbox is disabled. */
  readonly sessionDir: string | undefined;
  readonly isRoot: boolean;
  /** uid/gid to drop to when drop_privileges applies and no per-session uid is given. */
  readonly nobody: { readonly uid: number; readonly gid: number };
  /** The level this session gets (resolveIsolation); default "rlimits" ("none" if not enabled). */
  readonly isolation?: IsolationLevel;
  /** The session's own uid (= gid) from session.uid_range_*, used instead of nobody. */
  readonly sessionUid?: number | undefined;
  /** Isolation "namespaces": the bwrap program, sandbox_dir and the files to hide. */
  readonly namespaces?: {
    readonly bwrap: string;
    readonly sandboxDir: string;
    readonly hide: readonly string[];
  };
}

export interface SpawnPlan {
  /** Program to execute (the first wrapper, or the service's own program). */
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** The service's own argv, after the wrappers (for logs; never sent to clients). */
  readonly command: readonly string[];
  /** Set when the process drops privileges (its session dir must then be owned by it). */
  readonly runAs: { readonly uid: number; readonly gid: number } | undefined;
  /** The level applied; "namespaces": the process is bwrap, the server runs in its namespaces. */
  readonly isolation: IsolationLevel;
}

/** The level a context asks for (a disabled sandbox is always "none"). */
export function isolationOf(sandbox: SandboxConfig, ctx: SpawnContext): IsolationLevel {
  return sandbox.enabled ? (ctx.isolation ?? 'rlimits') : 'none';
}

export function sessionTmpDir(sessionDir: string): string {
  return `${sessionDir}/tmp`;
}

export function planEnv(service: ServiceConfig, ctx: SpawnContext): Record<string, string> {
  const { sandbox } = service;
  const sandboxed = isolationOf(sandbox, ctx) !== 'none';
  const env: Record<string, string> = {};
  if (sandboxed && sandbox.restricted_env) {
    env.PATH = ctx.parentEnv.PATH ?? DEFAULT_PATH;
    env.LANG = ctx.parentEnv.LANG ?? 'C.UTF-8';
  } else {
    for (const [key, value] of Object.entries(ctx.parentEnv)) {
      if (value === undefined || key.startsWith('MCPMUX_')) continue;
      if ((DANGEROUS_ENV as readonly string[]).includes(key)) continue;
      env[key] = value;
    }
  }
  if (sandboxed && ctx.sessionDir !== undefined) {
    env.HOME = ctx.sessionDir;
    env.TMPDIR = sessionTmpDir(ctx.sessionDir);
  }
  return Object.assign(env, service.env);
}

/** `prlimit` options for the configured limits; a limit of 0 is not applied. */
export function planLimits(sandbox: SandboxConfig): string[] {
  const l = sandbox.limits;
  const out: string[] = [];
  if (l.cpu_seconds > 0) out.push(`--cpu=${l.cpu_seconds}`);
  // RLIMIT_DATA, not RLIMIT_AS: V8 and JVMs reserve large address ranges they never touch.
  if (l.memory_mb > 0) out.push(`--data=${l.memory_mb * MIB}`);
  if (l.max_processes > 0) out.push(`--nproc=${l.max_processes}`);
  if (l.file_size_mb > 0) out.push(`--fsize=${l.file_size_mb * MIB}`);
  if (l.open_files > 0) out.push(`--nofile=${l.open_files}`);
  return out;
}

/**
 * The wrappers that lower the server's CPU priority below the relay's (docs/operations.md
 * "Latency"): `chrt --batch|--idle 0` and `nice -n N`. Both exec in place (no extra process) and are
 * inherited by everything the server starts.
 */
export function planPriority(sandbox: SandboxConfig): string[] {
  const out: string[] = [];
  if (sandbox.sched !== 'other') out.push('chrt', `--${sandbox.sched}`, '0');
  if (sandbox.nice > 0) out.push('nice', '-n', String(sandbox.nice));
  return out;
}

export function planSpawn(service: ServiceConfig, ctx: SpawnContext): SpawnPlan {
  const { sandbox } = service;
  if (service.command.length === 0) throw new RangeError('command must not be empty');
  const command = [...service.command];
  const isolation = isolationOf(sandbox, ctx);
  const sandboxed = isolation !== 'none';
  const dropsPrivileges = sandboxed && sandbox.drop_privileges && ctx.isRoot;
  const runAs = dropsPrivileges
    ? ctx.sessionUid !== undefined
      ? { uid: ctx.sessionUid, gid: ctx.sessionUid }
      : { uid: ctx.nobody.uid, gid: ctx.nobody.gid }
    : undefined;

  // setpriv: parent-death signal always (a killed relay leaves no child); no-new-privs and the
  // uid switch when the sandbox asks for them.
  const setpriv = ['--pdeathsig', 'SIGKILL'];
  const drop = sandboxed ? ['--no-new-privs'] : [];
  if (runAs !== undefined) {
    drop.push(`--reuid=${runAs.uid}`, `--regid=${runAs.gid}`, '--clear-groups');
  }
  const limits = sandboxed && sandbox.resource_limits ? planLimits(sandbox) : [];
  const limited = limits.length > 0 ? ['prlimit', ...limits, '--', ...command] : command;
  const inner = [...planPriority(sandbox), ...limited];

  let cwd: string;
  if (sandbox.working_dir !== '') cwd = sandbox.working_dir;
  else if (sandboxed && ctx.sessionDir !== undefined) cwd = ctx.sessionDir;
  else cwd = ctx.parentCwd;

  const env = planEnv(service, ctx);
  const ns = ctx.namespaces;
  if (isolation === 'namespaces') {
    if (ns === undefined || ctx.sessionDir === undefined) {
      throw new RangeError('isolation "namespaces" needs bwrap and a session directory');
    }
    const bwrap = planNamespaceArgs(sandbox, {
      sandboxDir: ns.sandboxDir,
      sessionDir: ctx.sessionDir,
      cwd,
      hide: ns.hide,
      keep: keptBelowTmp(ctx.parentCwd, command),
      switchesUid: runAs !== undefined,
    });
    // The uid switch happens inside, after bwrap built the namespaces; the inner capability sets
    // are emptied so nothing is left to regain.
    if (runAs !== undefined) drop.push('--inh-caps=-all', '--bounding-set=-all');
    const inside = ['setpriv', ...drop, '--', ...innerPrefix(cwd), ...inner];
    const args = [...setpriv, '--', ns.bwrap, ...bwrap, '--', ...inside];
    return { file: 'setpriv', args, env, cwd, command, runAs, isolation };
  }
  const args = [...setpriv, ...drop, '--', ...inner];
  return { file: 'setpriv', args, env, cwd, command, runAs, isolation };
}

/**
 * What a private /tmp must not hide: the relay's working directory and the directory of every
 * absolute path in the command (its script, say), when they are below /tmp.
 */
export function keptBelowTmp(relayCwd: string, command: readonly string[]): string[] {
  const kept = new Set<string>();
  if (isWithin(relayCwd, '/tmp')) kept.add(relayCwd);
  for (const arg of command) {
    if (!arg.startsWith('/') || !isWithin(arg, '/tmp')) continue;
    const dir = dirname(arg);
    if (![...kept].some((k) => isWithin(dir, k))) kept.add(dir);
  }
  return [...kept].filter((path) => path !== '/tmp');
}
