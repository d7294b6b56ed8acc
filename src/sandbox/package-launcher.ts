// PURE: recognises services launched through a package runner (npx, uvx, pipx, bunx) by the
// basename of argv[0], after an optional `env [NAME=value ...]`, and for npx works out what the
// shared package cache needs (docs/operations.md "Latency"): the package spec, the command to run
// from it, and the command that fills the cache. bunx, uvx and pipx: package-plans.ts. No I/O.

import { basename } from 'node:path';

export type Launcher = 'npx' | 'uvx' | 'pipx' | 'bunx';
const LAUNCHERS: readonly string[] = ['npx', 'uvx', 'pipx', 'bunx'];

/** npx options that take no value and change nothing the cache cares about. */
const NPX_FLAGS = new Set([
  '-y',
  '--yes',
  '-q',
  '--quiet',
  '--prefer-offline',
  '--no-update-notifier',
]);

/** The launcher of `command`, after an optional `env NAME=value ...`; undefined if none. */
export function launcherOf(command: readonly string[]): Launcher | undefined {
  const rest = skipEnv(command);
  const program = rest[0];
  if (program === undefined) return undefined;
  const name = basename(program);
  return LAUNCHERS.includes(name) ? (name as Launcher) : undefined;
}

/** `command` without a leading `env NAME=value ...` (only assignments; any env option: kept). */
export function skipEnv(command: readonly string[]): readonly string[] {
  if (command[0] === undefined || basename(command[0]) !== 'env') return command;
  let i = 1;
  while (i < command.length && /^[A-Za-z_][A-Za-z0-9_]*=/.test(command[i]!)) i++;
  return command.slice(i);
}

export interface NpxCommand {
  /** What npx installs: a registry spec (`name`, `name@range`) or a path/URL (with --package). */
  readonly spec: string;
  /** The bin to run; undefined: npx's own choice (the package's only bin, or the one named after it). */
  readonly bin: string | undefined;
  /** The package name when known from a registry spec (to choose its bin). */
  readonly name: string | undefined;
  /** Arguments after the bin. */
  readonly args: readonly string[];
  /** `NAME=value` assignments of a leading `env` (kept for the cached command). */
  readonly env: readonly string[];
}

/** The package name of a registry spec (`@scope/name@1` → `@scope/name`), or undefined. */
export function registryName(spec: string): string | undefined {
  const match = /^((?:@[a-z0-9][\w.-]*\/)?[a-z0-9][\w.-]*)(?:@[^/\s]*)?$/i.exec(spec);
  return match?.[1];
}

/**
 * `[env NAME=value ...] npx [-y|--yes|-q|...] [--package=SPEC | -p SPEC] [--] CMD_OR_SPEC ARGS...`;
 * undefined for any other shape (several packages, --call, unknown options): such a service runs
 * as configured, without the cache.
 */
export function parseNpx(command: readonly string[]): NpxCommand | undefined {
  const rest = skipEnv(command);
  if (rest[0] === undefined || basename(rest[0]) !== 'npx') return undefined;
  const env = command.slice(1, command.length - rest.length);
  let pkg: string | undefined;
  let i = 1;
  for (; i < rest.length; i++) {
    const arg = rest[i]!;
    if (NPX_FLAGS.has(arg)) continue;
    if (arg.startsWith('--package=')) {
      if (pkg !== undefined) return undefined;
      pkg = arg.slice('--package='.length);
    } else if (arg === '--package' || arg === '-p') {
      if (pkg !== undefined || rest[i + 1] === undefined) return undefined;
      pkg = rest[++i];
    } else if (arg === '--') {
      i++;
      break;
    } else if (arg.startsWith('-')) {
      return undefined;
    } else break;
  }
  const first = rest[i];
  if (first === undefined || pkg === '') return undefined;
  const args = rest.slice(i + 1);
  if (pkg !== undefined) return { spec: pkg, bin: first, name: registryName(pkg), args, env };
  const name = registryName(first);
  if (name === undefined) return undefined; // a path or URL needs --package and a bin
  return { spec: first, bin: undefined, name, args, env };
}

/** Installs `spec` into the cache and prints the directory of its bins (PATH's first entry). */
export function npxFillCommand(npx: { readonly spec: string }): string[] {
  return [
    'npx',
    '--yes',
    `--package=${npx.spec}`,
    '--',
    'node',
    '-p',
    'process.env.PATH.split(":")[0]',
  ];
}

/**
 * The bin npx would run from the installed package: the named one, else the package's only bin,
 * else the one named after the package (unscoped). `bins` is the package.json `bin` field.
 */
export function chooseBin(
  npx: { readonly bin: string | undefined; readonly name: string | undefined },
  bins: unknown,
): string | undefined {
  if (npx.bin !== undefined) return npx.bin;
  const unscoped = npx.name?.replace(/^@[^/]+\//, '');
  if (typeof bins === 'string') return unscoped;
  if (typeof bins !== 'object' || bins === null) return undefined;
  const names = Object.keys(bins);
  if (names.length === 1) return names[0];
  return unscoped !== undefined && names.includes(unscoped) ? unscoped : undefined;
}

/** The session's command: the cached bin itself (no npm at all), behind the original `env`. */
export function cachedCommand(
  npx: { readonly env: readonly string[]; readonly args: readonly string[] },
  binPath: string,
): string[] {
  const head = npx.env.length > 0 ? ['env', ...npx.env] : [];
  return [...head, binPath, ...npx.args];
}
