// PURE: turns a service's configuration into exactly what to execute — program, argv, env, cwd —
// including the util-linux wrappers that apply the sandbox (SPEC §3). No I/O, no clock: the caller
// passes in the relay's environment, whether it is root, and the uid/gid of `nobody`.

import type { SandboxConfig, ServiceConfig } from '../config/types.js';

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
  /** uid/gid to drop to when drop_privileges applies. */
  readonly nobody: { readonly uid: number; readonly gid: number };
}

export interface SpawnPlan {
  /** Program to execute (the first wrapper, or the service's own program). */
  readonly file: string;
  readonly args: readonly string[];
  readonly env: Readonly<Record<string, string>>;
  readonly cwd: string;
  /** The service's own argv, after the wrappers (for logs; never sent to clients). */
  readonly command: readonly string[];
  /** Set when the process runs as `nobody` (its session dir must then be owned by it). */
  readonly runAs: { readonly uid: number; readonly gid: number } | undefined;
}

export function sessionTmpDir(sessionDir: string): string {
  return `${sessionDir}/tmp`;
}

export function planEnv(service: ServiceConfig, ctx: SpawnContext): Record<string, string> {
  const { sandbox } = service;
  const env: Record<string, string> = {};
  if (sandbox.enabled && sandbox.restricted_env) {
    env.PATH = ctx.parentEnv.PATH ?? DEFAULT_PATH;
    env.LANG = ctx.parentEnv.LANG ?? 'C.UTF-8';
  } else {
    for (const [key, value] of Object.entries(ctx.parentEnv)) {
      if (value === undefined || key.startsWith('MCPMUX_')) continue;
      if ((DANGEROUS_ENV as readonly string[]).includes(key)) continue;
      env[key] = value;
    }
  }
  if (sandbox.enabled && ctx.sessionDir !== undefined) {
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

export function planSpawn(service: ServiceConfig, ctx: SpawnContext): SpawnPlan {
  const { sandbox } = service;
  if (service.command.length === 0) throw new RangeError('command must not be empty');
  const command = [...service.command];
  const dropsPrivileges = sandbox.enabled && sandbox.drop_privileges && ctx.isRoot;

  // setpriv: parent-death signal always (a killed relay leaves no child); no-new-privs and the
  // uid switch when the sandbox asks for them.
  const setpriv = ['--pdeathsig', 'SIGKILL'];
  if (sandbox.enabled) setpriv.push('--no-new-privs');
  if (dropsPrivileges) {
    setpriv.push(`--reuid=${ctx.nobody.uid}`, `--regid=${ctx.nobody.gid}`, '--clear-groups');
  }
  const limits = sandbox.enabled && sandbox.resource_limits ? planLimits(sandbox) : [];
  const inner = limits.length > 0 ? ['prlimit', ...limits, '--', ...command] : command;
  const args = [...setpriv, '--', ...inner];

  let cwd: string;
  if (sandbox.working_dir !== '') cwd = sandbox.working_dir;
  else if (sandbox.enabled && ctx.sessionDir !== undefined) cwd = ctx.sessionDir;
  else cwd = ctx.parentCwd;

  const runAs = dropsPrivileges ? { uid: ctx.nobody.uid, gid: ctx.nobody.gid } : undefined;
  return { file: 'setpriv', args, env: planEnv(service, ctx), cwd, command, runAs };
}
