// The shared package cache (docs/operations.md "Latency"): services launched through npx, bunx,
// uvx or pipx run their package from one persistent cache under session.package_cache_dir, which
// the relay fills and sessions only read (bound read-only under namespaces), so a session cannot
// change the packages another session runs. A session runs the cached bin itself, without the
// launcher: no registry round trip, no network needed once filled. The fill runs once per package,
// outside the sessions, with the relay's network (npx itself; `bun add`, `uv tool install`,
// `pipx install` into the package's own directory); one fill per package at a time; a failed fill
// is logged and the service runs as configured (as before the cache).

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import type { ServiceConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import { chooseBin, npxFillCommand } from './package-launcher.js';
import {
  cacheKey,
  fillStep,
  installerPath,
  planOf,
  sessionCommand,
  type PackagePlan,
} from './package-plans.js';

/** A fill (download and install) that takes longer is killed. */
const FILL_TIMEOUT_MS = 180_000;
/** Output of a fill kept (its stdout is one path; stderr for the log). */
const FILL_OUTPUT_BYTES = 64 * 1024;

interface Ready {
  spec: string;
  bin: string;
  /** `bunx --bun`: the bun that runs the bin. */
  runtime?: string;
}

export class PackageCache {
  readonly dir: string;
  readonly #log: Logger;
  readonly #fills = new Map<string, Promise<string[] | undefined>>();
  readonly #children = new Set<() => void>();
  #closed = false;

  constructor(dir: string, logger: Logger) {
    this.dir = dir;
    this.#log = logger.child({ component: 'package-cache' });
  }

  /** Whether sessions of `service` run from this cache (npx, bunx, uvx, pipx of a known shape). */
  handles(service: ServiceConfig): boolean {
    return planOf(service.command) !== undefined;
  }

  /** The command a session runs when its package is in the cache; undefined when not (yet). */
  commandFor(service: ServiceConfig): string[] | undefined {
    const plan = planOf(service.command);
    if (plan === undefined) return undefined;
    try {
      const ready = JSON.parse(readFileSync(this.#markerOf(plan), 'utf8')) as Ready;
      if (!existsSync(ready.bin)) return undefined;
      return sessionCommand(plan, ready.bin, ready.runtime);
    } catch {
      return undefined;
    }
  }

  /** Fills the cache for `service` (once at a time per package); the cached command, or undefined. */
  fill(service: ServiceConfig): Promise<string[] | undefined> {
    const plan = planOf(service.command);
    if (plan === undefined || this.#closed) return Promise.resolve(undefined);
    const key = cacheKey(plan);
    let running = this.#fills.get(key);
    if (running === undefined) {
      running = this.#fill(plan).finally(() => this.#fills.delete(key));
      this.#fills.set(key, running);
    }
    return running;
  }

  /** Kills every fill still running (relay shutdown). */
  close(): void {
    this.#closed = true;
    for (const kill of this.#children) kill();
  }

  #hashOf(plan: PackagePlan): string {
    return createHash('sha256').update(cacheKey(plan)).digest('hex').slice(0, 32);
  }

  #markerOf(plan: PackagePlan): string {
    return join(this.dir, `${plan.launcher}-ready`, `${this.#hashOf(plan)}.json`);
  }

  async #fill(plan: PackagePlan): Promise<string[] | undefined> {
    const started = Date.now();
    try {
      mkdirSync(join(this.dir, `${plan.launcher}-ready`), { recursive: true, mode: 0o755 });
      mkdirSync(join(this.dir, 'home'), { recursive: true, mode: 0o700 });
      const ready =
        plan.launcher === 'npx' ? await this.#fillNpx(plan) : await this.#fillOther(plan);
      const marker = this.#markerOf(plan);
      writeFileSync(`${marker}.tmp`, JSON.stringify(ready));
      renameSync(`${marker}.tmp`, marker);
      this.#log.info(
        { launcher: plan.launcher, spec: plan.spec, bin: ready.bin, ms: Date.now() - started },
        'package cached',
      );
      return sessionCommand(plan, ready.bin, ready.runtime);
    } catch (err) {
      this.#log.warn(
        { spec: plan.spec, err: (err as Error).message, ms: Date.now() - started },
        'package cache fill failed: the service runs as configured',
      );
      return undefined;
    }
  }

  async #fillNpx(plan: PackagePlan): Promise<Ready> {
    const out = await this.#run(npxFillCommand(plan), {});
    const binDir = out.trim().split('\n').at(-1) ?? '';
    if (!binDir.startsWith('/')) throw new Error(`npx printed no bin directory: ${binDir}`);
    const name = plan.name;
    const manifest =
      plan.bin === undefined && name !== undefined
        ? (JSON.parse(readFileSync(join(binDir, '..', name, 'package.json'), 'utf8')) as {
            bin?: unknown;
          })
        : {};
    const bin = chooseBin(plan, manifest.bin);
    if (bin === undefined) throw new Error(`cannot tell which bin of ${plan.spec} to run`);
    return { spec: plan.spec, bin: realpathSync(join(binDir, bin)) };
  }

  /** bunx, uvx, pipx: the installer beside the launcher installs into the plan's own directory. */
  async #fillOther(plan: PackagePlan): Promise<Ready> {
    const dir = join(this.dir, plan.launcher, this.#hashOf(plan));
    mkdirSync(dir, { recursive: true, mode: 0o755 });
    const step = fillStep(plan, this.dir, dir);
    const installer = installerPath(step, resolveProgram(plan.program));
    if (plan.launcher === 'bunx') {
      writeFileSync(join(dir, 'package.json'), '{ "private": true }\n');
    }
    await this.#run([installer, ...step.args], step.env, dir);
    let bin = plan.bin;
    if (plan.launcher === 'bunx' && bin === undefined && plan.name !== undefined) {
      // bunx SPEC (a registry name): the bin as bunx chooses it, from the installed package.json
      const manifest = JSON.parse(
        readFileSync(join(dir, 'node_modules', plan.name, 'package.json'), 'utf8'),
      ) as { bin?: unknown };
      bin = chooseBin(plan, manifest.bin);
    }
    if (bin === undefined) throw new Error(`cannot tell which bin of ${plan.spec} to run`);
    const binPath = realpathSync(join(step.binDir, bin));
    return {
      spec: plan.spec,
      bin: binPath,
      ...(plan.runtime === 'bun' && { runtime: installer }),
    };
  }

  /** Runs a fill, resolves with what it printed; rejects on a failure or past the deadline. */
  #run(command: string[], extra: Readonly<Record<string, string>>, cwd?: string): Promise<string> {
    const env = {
      ...extra,
      PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
      LANG: process.env.LANG ?? 'C.UTF-8',
      HOME: join(this.dir, 'home'),
      npm_config_cache: join(this.dir, 'npm'),
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
    };
    const [file, ...args] = ['setpriv', '--pdeathsig', 'SIGKILL', '--', ...command];
    return new Promise((resolve, reject) => {
      const child = spawn(file, args, {
        env,
        detached: true,
        stdio: ['ignore', 'pipe', 'pipe'],
        ...(cwd !== undefined && { cwd }),
      });
      let out = '';
      let err = '';
      const keep = (s: string, chunk: Buffer) => (s + chunk.toString()).slice(-FILL_OUTPUT_BYTES);
      child.stdout.on('data', (c: Buffer) => (out = keep(out, c)));
      child.stderr.on('data', (c: Buffer) => (err = keep(err, c)));
      const kill = () => {
        try {
          if (child.pid !== undefined) process.kill(-child.pid, 'SIGKILL');
        } catch {
          // gone
        }
      };
      this.#children.add(kill);
      const timer = setTimeout(kill, FILL_TIMEOUT_MS);
      child.once('error', (e) => {
        clearTimeout(timer);
        this.#children.delete(kill);
        reject(e);
      });
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        this.#children.delete(kill);
        if (code === 0) resolve(out);
        else reject(new Error(`fill exited (${signal ?? String(code)}): ${err.slice(-500)}`));
      });
    });
  }
}

/** The launcher's path: as configured when it names a path, else the first on the relay's PATH. */
function resolveProgram(program: string): string {
  if (program.includes('/')) return isAbsolute(program) ? program : join(process.cwd(), program);
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const candidate = join(dir, program);
    try {
      accessSync(candidate, constants.X_OK);
      return isAbsolute(candidate) ? candidate : join(process.cwd(), candidate);
    } catch {
      // not here
    }
  }
  throw new Error(`${program} is not on PATH`);
}
