// The shared package cache (docs/operations.md "Latency"): services launched through npx run their
// package from one persistent cache under session.package_cache_dir, which the relay fills and
// sessions only read (bound read-only under namespaces), so a session cannot change the packages
// another session runs. A session runs the cached bin itself, without npm: no registry round trip,
// no network needed once filled. The fill runs the launcher once, outside the sessions, with the
// relay's network; one fill per package at a time; a failed fill is logged and the service runs as
// configured (as before the cache).

import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import type { ServiceConfig } from '../config/types.js';
import type { Logger } from '../log.js';
import {
  cachedCommand,
  chooseBin,
  npxFillCommand,
  parseNpx,
  type NpxCommand,
} from './package-launcher.js';

/** A fill (download and install) that takes longer is killed. */
const FILL_TIMEOUT_MS = 180_000;
/** Output of a fill kept (its stdout is one path; stderr for the log). */
const FILL_OUTPUT_BYTES = 64 * 1024;

interface Ready {
  spec: string;
  bin: string;
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

  /** Whether sessions of `service` run from this cache (an npx command of a known shape). */
  handles(service: ServiceConfig): boolean {
    return parseNpx(service.command) !== undefined;
  }

  /** The command a session runs when its package is in the cache; undefined when not (yet). */
  commandFor(service: ServiceConfig): string[] | undefined {
    const npx = parseNpx(service.command);
    if (npx === undefined) return undefined;
    try {
      const ready = JSON.parse(readFileSync(this.#markerOf(npx.spec, npx.bin), 'utf8')) as Ready;
      if (!existsSync(ready.bin)) return undefined;
      return cachedCommand(npx, ready.bin);
    } catch {
      return undefined;
    }
  }

  /** Fills the cache for `service` (once at a time per package); the cached command, or undefined. */
  fill(service: ServiceConfig): Promise<string[] | undefined> {
    const npx = parseNpx(service.command);
    if (npx === undefined || this.#closed) return Promise.resolve(undefined);
    const key = `${npx.spec}\0${npx.bin ?? ''}`;
    let running = this.#fills.get(key);
    if (running === undefined) {
      running = this.#fillNpx(npx).finally(() => this.#fills.delete(key));
      this.#fills.set(key, running);
    }
    return running;
  }

  /** Kills every fill still running (relay shutdown). */
  close(): void {
    this.#closed = true;
    for (const kill of this.#children) kill();
  }

  #markerOf(spec: string, bin: string | undefined): string {
    const hash = createHash('sha256')
      .update(`${spec}\0${bin ?? ''}`)
      .digest('hex')
      .slice(0, 32);
    return join(this.dir, 'npx-ready', `${hash}.json`);
  }

  async #fillNpx(npx: NpxCommand): Promise<string[] | undefined> {
    const started = Date.now();
    try {
      mkdirSync(join(this.dir, 'npx-ready'), { recursive: true, mode: 0o755 });
      mkdirSync(join(this.dir, 'home'), { recursive: true, mode: 0o700 });
      const binDir = await this.#run(npxFillCommand(npx));
      const name = npx.name;
      const manifest =
        npx.bin === undefined && name !== undefined
          ? (JSON.parse(readFileSync(join(binDir, '..', name, 'package.json'), 'utf8')) as {
              bin?: unknown;
            })
          : {};
      const bin = chooseBin(npx, manifest.bin);
      if (bin === undefined) throw new Error(`cannot tell which bin of ${npx.spec} to run`);
      const binPath = realpathSync(join(binDir, bin));
      const marker = this.#markerOf(npx.spec, npx.bin);
      writeFileSync(`${marker}.tmp`, JSON.stringify({ spec: npx.spec, bin: binPath }));
      renameSync(`${marker}.tmp`, marker);
      this.#log.info({ spec: npx.spec, bin: binPath, ms: Date.now() - started }, 'package cached');
      return cachedCommand(npx, binPath);
    } catch (err) {
      this.#log.warn(
        { spec: npx.spec, err: (err as Error).message, ms: Date.now() - started },
        'package cache fill failed: the service runs as configured',
      );
      return undefined;
    }
  }

  /** Runs the fill, returns the last line it printed; rejects on a failure or past the deadline. */
  #run(command: string[]): Promise<string> {
    const env = {
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
      const child = spawn(file, args, { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
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
        const last = out.trim().split('\n').at(-1) ?? '';
        if (code === 0 && last.startsWith('/')) resolve(last);
        else reject(new Error(`fill exited (${signal ?? String(code)}): ${err.slice(-500)}`));
      });
    });
  }
}
