// PURE: what the shared package cache (docs/operations.md "Latency") needs for every launcher it
// handles: parses the command shapes of npx, bunx, uvx (`uv tool run`) and `pipx run` into one plan,
// and says how the relay fills the cache for it (the command, its environment, where the bin lands)
// and what a session runs from it: the cached bin itself, never the launcher. No I/O.

import { basename, join } from 'node:path';
import { parseNpx, registryName, skipEnv, type Launcher } from './package-launcher.js';

export interface PackagePlan {
  readonly launcher: Launcher;
  /** argv[0] as configured: the launcher, by path or by name. */
  readonly program: string;
  /** What the fill installs: a registry spec, a requirement, a path or URL. */
  readonly spec: string;
  /** The package name when known. */
  readonly name: string | undefined;
  /** The command to run; undefined: the package's own choice (npm-style bins). */
  readonly bin: string | undefined;
  /** Launcher options that change what is installed (given to the fill, part of the cache key). */
  readonly installOptions: readonly string[];
  /** `bunx --bun`: the bin runs under bun instead of its shebang. */
  readonly runtime: 'bun' | undefined;
  /** Arguments after the bin. */
  readonly args: readonly string[];
  /** `NAME=value` assignments of a leading `env`. */
  readonly env: readonly string[];
}

/** The plan of a command of a shape the cache knows; undefined: the service runs as configured. */
export function planOf(command: readonly string[]): PackagePlan | undefined {
  const rest = skipEnv(command);
  const env = command.slice(1, command.length - rest.length);
  const program = rest[0];
  if (program === undefined) return undefined;
  switch (basename(program)) {
    case 'npx': {
      const npx = parseNpx(command);
      if (npx === undefined) return undefined;
      return { ...npx, launcher: 'npx', program, installOptions: [], runtime: undefined };
    }
    case 'bunx':
      return withEnv(parseBunx(rest), env);
    case 'uvx':
      return withEnv(parseUvx(rest), env);
    case 'pipx':
      return withEnv(parsePipx(rest), env);
    default:
      return undefined;
  }
}

function withEnv(plan: PackagePlan | undefined, env: readonly string[]): PackagePlan | undefined {
  return plan === undefined ? undefined : { ...plan, env };
}

/** Reads `--name VALUE` or `--name=VALUE` at `rest[i]`: [value, next index] or undefined. */
function valueOf(rest: readonly string[], i: number, names: readonly string[]) {
  const arg = rest[i]!;
  for (const name of names) {
    if (arg === name) {
      const value = rest[i + 1];
      return value === undefined || value === '' ? undefined : ([value, i + 2] as const);
    }
    if (name.startsWith('--') && arg.startsWith(`${name}=`)) {
      const value = arg.slice(name.length + 1);
      return value === '' ? undefined : ([value, i + 1] as const);
    }
  }
  return undefined;
}

const BUNX_NOOPS = new Set(['-y', '--yes', '--silent', '--verbose']);
const BUNX_INSTALL_FLAGS = new Set(['--trust', '--ignore-scripts']);

/**
 * `bunx [--bun] [-y|--silent|--verbose] [--trust|--ignore-scripts] [--registry URL]
 * [-p SPEC|--package SPEC] CMD_OR_SPEC ARGS...` (bunx takes a path or URL only with -p).
 */
export function parseBunx(rest: readonly string[]): PackagePlan | undefined {
  let pkg: string | undefined;
  let runtime: 'bun' | undefined;
  const installOptions: string[] = [];
  let i = 1;
  while (i < rest.length && rest[i]!.startsWith('-')) {
    const arg = rest[i]!;
    const pkgValue = valueOf(rest, i, ['-p', '--package']);
    const registry = valueOf(rest, i, ['--registry']);
    if (arg === '--bun') runtime = 'bun';
    else if (BUNX_INSTALL_FLAGS.has(arg)) installOptions.push(arg);
    else if (BUNX_NOOPS.has(arg)) {
      // changes nothing the cache cares about
    } else if (pkgValue !== undefined && pkg === undefined) {
      [pkg, i] = pkgValue;
      continue;
    } else if (registry !== undefined) {
      installOptions.push(`--registry=${registry[0]}`);
      i = registry[1];
      continue;
    } else return undefined;
    i++;
  }
  const first = rest[i];
  if (first === undefined) return undefined;
  const base = { launcher: 'bunx' as const, program: rest[0]!, installOptions, runtime, env: [] };
  const args = rest.slice(i + 1);
  if (pkg !== undefined) return { ...base, spec: pkg, name: registryName(pkg), bin: first, args };
  const name = registryName(first);
  if (name === undefined) return undefined;
  return { ...base, spec: first, name, bin: undefined, args };
}

/** A Python distribution name (PEP 508), optionally with extras: `name[extra]`. */
const PY_NAME = /^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)(\[[A-Za-z0-9._,-]+\])?$/;
const UVX_NOOPS = new Set(['-q', '--quiet', '--isolated', '--no-progress']);

/**
 * `uvx [-q|--isolated] [--from SPEC] [--python VER|-p VER] [--with REQ]... [--] CMD[@VERSION] ARGS...`.
 * Without --from the command names the package (`ruff@0.6.0` installs `ruff==0.6.0`, `@latest`
 * the newest at fill time).
 */
export function parseUvx(rest: readonly string[]): PackagePlan | undefined {
  let from: string | undefined;
  const installOptions: string[] = [];
  let i = 1;
  while (i < rest.length && rest[i]!.startsWith('-')) {
    const arg = rest[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    const fromValue = valueOf(rest, i, ['--from']);
    const python = valueOf(rest, i, ['--python', '-p']);
    const withValue = valueOf(rest, i, ['--with']);
    if (UVX_NOOPS.has(arg)) i++;
    else if (fromValue !== undefined && from === undefined) [from, i] = fromValue;
    else if (python !== undefined) {
      installOptions.push(`--python=${python[0]}`);
      i = python[1];
    } else if (withValue !== undefined) {
      installOptions.push(`--with=${withValue[0]}`);
      i = withValue[1];
    } else return undefined;
  }
  const first = rest[i];
  if (first === undefined) return undefined;
  const base = { launcher: 'uvx' as const, program: rest[0]!, installOptions, runtime: undefined };
  const args = rest.slice(i + 1);
  if (from !== undefined) {
    if (!PY_NAME.test(first) || first.includes('[')) return undefined;
    return { ...base, spec: from, name: undefined, bin: first, args, env: [] };
  }
  const at = first.indexOf('@');
  const head = at < 0 ? first : first.slice(0, at);
  const version = at < 0 ? undefined : first.slice(at + 1);
  const match = PY_NAME.exec(head);
  // extras in the command position (`pkg[x]`) are left to uvx: only `--from 'pkg[x]'` is cached
  if (match === null || match[2] !== undefined || version === '' || /[\s@]/.test(version ?? ''))
    return undefined;
  const name = match[1]!;
  const spec = version === undefined || version === 'latest' ? head : `${head}==${version}`;
  return { ...base, spec, name, bin: name, args, env: [] };
}

const PIPX_NOOPS = new Set(['-q', '--quiet', '--verbose']);

/**
 * `pipx run [--spec SPEC] [--python PY] [--index-url URL|-i URL] [--pip-args ARGS] [--] APP ARGS...`
 * (without --spec APP is the package's name, no version: anything else runs as configured).
 */
export function parsePipx(rest: readonly string[]): PackagePlan | undefined {
  if (rest[1] !== 'run') return undefined;
  let spec: string | undefined;
  const installOptions: string[] = [];
  let i = 2;
  while (i < rest.length && rest[i]!.startsWith('-')) {
    const arg = rest[i]!;
    if (arg === '--') {
      i++;
      break;
    }
    const specValue = valueOf(rest, i, ['--spec']);
    const option =
      valueOf(rest, i, ['--python']) ??
      valueOf(rest, i, ['--index-url', '-i']) ??
      valueOf(rest, i, ['--pip-args']);
    if (PIPX_NOOPS.has(arg)) i++;
    else if (specValue !== undefined && spec === undefined) [spec, i] = specValue;
    else if (option !== undefined) {
      const name = arg === '-i' ? '--index-url' : arg.replace(/=.*$/s, '');
      installOptions.push(`${name}=${option[0]}`);
      i = option[1];
    } else return undefined;
  }
  const app = rest[i];
  if (app === undefined || !PY_NAME.test(app) || app.includes('[')) return undefined;
  return {
    launcher: 'pipx',
    program: rest[0]!,
    spec: spec ?? app,
    name: spec === undefined ? app : undefined,
    bin: app,
    installOptions,
    runtime: undefined,
    args: rest.slice(i + 1),
    env: [],
  };
}

/**
 * How the relay fills the cache for a bunx, uvx or pipx plan (npx: package-launcher.ts). A fill runs
 * only while the package has no marker, so `--force` only repairs what a failed fill left behind.
 */
export interface FillStep {
  /** The installer to run: a sibling of the configured launcher (`bun`, `uv`) or pipx itself. */
  readonly installer: 'bun' | 'uv' | 'pipx';
  /** Arguments after the installer. */
  readonly args: readonly string[];
  /** Environment beside the relay's PATH/LANG and HOME=<cache>/home. */
  readonly env: Readonly<Record<string, string>>;
  /** Where the installed bins land (bunx: node_modules/.bin of `dir`). */
  readonly binDir: string;
}

/**
 * The fill of `plan` into `dir` (its own directory, `<cache>/<launcher>/<key hash>`), with the
 * launcher's shared download cache in `<cache>/<launcher>-cache` (`cacheRoot` is `<cache>`).
 */
export function fillStep(plan: PackagePlan, cacheRoot: string, dir: string): FillStep {
  const shared = join(cacheRoot, `${plan.launcher}-cache`);
  switch (plan.launcher) {
    case 'bunx':
      return {
        installer: 'bun',
        args: ['add', ...plan.installOptions, plan.spec],
        env: { BUN_INSTALL_CACHE_DIR: shared, DO_NOT_TRACK: '1' },
        binDir: join(dir, 'node_modules', '.bin'),
      };
    case 'uvx':
      return {
        installer: 'uv',
        args: ['tool', 'install', '--force', ...plan.installOptions, plan.spec],
        env: {
          UV_TOOL_DIR: join(dir, 'tools'),
          UV_TOOL_BIN_DIR: join(dir, 'bin'),
          UV_CACHE_DIR: join(shared, 'cache'),
          UV_PYTHON_INSTALL_DIR: join(shared, 'python'),
          UV_PYTHON_BIN_DIR: join(shared, 'python-bin'),
          UV_NO_PROGRESS: '1',
        },
        binDir: join(dir, 'bin'),
      };
    default:
      return {
        installer: 'pipx',
        args: ['install', '--force', ...plan.installOptions, plan.spec],
        env: {
          PIPX_HOME: join(dir, 'home'),
          PIPX_BIN_DIR: join(dir, 'bin'),
          PIPX_MAN_DIR: join(dir, 'man'),
          PIP_CACHE_DIR: join(shared, 'pip'),
        },
        binDir: join(dir, 'bin'),
      };
  }
}

/** The installer's path: pipx itself; `bun`/`uv` beside the launcher (resolved on PATH first). */
export function installerPath(step: FillStep, launcherPath: string): string {
  return step.installer === 'pipx' ? launcherPath : join(launcherPath, '..', step.installer);
}

/** The session's command: the cached bin (under bun for `bunx --bun`), behind the original env. */
export function sessionCommand(
  plan: PackagePlan,
  binPath: string,
  runtimePath: string | undefined,
): string[] {
  const head = plan.env.length > 0 ? ['env', ...plan.env] : [];
  const run =
    plan.runtime === 'bun' && runtimePath !== undefined ? [runtimePath, '--no-install'] : [];
  return [...head, ...run, binPath, ...plan.args];
}

/** What identifies one filled package (its marker and directory). */
export function cacheKey(plan: PackagePlan): string {
  if (plan.launcher === 'npx') return `${plan.spec}\0${plan.bin ?? ''}`; // as before: same markers
  return JSON.stringify([plan.launcher, plan.spec, plan.bin ?? '', plan.installOptions]);
}
