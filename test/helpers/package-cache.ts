// What the package-cache suites (npx, bunx, uvx/pipx fakes) share: a temporary directory for the
// suite, MCPManagers running one service `pkg` with a package cache, each stopped after its
// test, and the argv a session's server runs with.

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MCPManager } from '../../src/sessions/mcp-manager.js';
import { serviceConfig, testConfig } from './config.js';
import { serverPidOf } from './processes.js';

type ServiceOverrides = Parameters<typeof serviceConfig>[1];

export interface PackageCacheSuite {
  /** The suite's temporary directory (made before the suite's own `before` hooks run). */
  dir(): string;
  /** A manager for service `pkg` = `command`, with `session.package_cache_dir` = `cacheDir`. */
  manager(command: string[], cacheDir: string, service?: ServiceOverrides): MCPManager;
}

/** Registers the suite's hooks; call at the top of a `describe`. */
export function packageCacheSuite(): PackageCacheSuite {
  let dir: string | undefined;
  const managers: MCPManager[] = [];
  const cleanups: (() => void)[] = [];
  before(() => (dir = mkdtempSync(join(tmpdir(), 'mcpmux-pkgcache-'))));
  after(() => rmSync(dir!, { recursive: true, force: true }));
  afterEach(async () => {
    await Promise.all(managers.splice(0).map((m) => m.shutdown()));
    for (const cleanup of cleanups.splice(0)) cleanup();
  });
  return {
    dir: () => dir!,
    manager: (command, cacheDir, service = {}) => {
      const config = testConfig(
        { pkg: serviceConfig(command, service) },
        { session: { package_cache_dir: cacheDir } },
      );
      cleanups.push(config.cleanup);
      const manager = new MCPManager(config, { stopGraceMs: 300 });
      managers.push(manager);
      return manager;
    },
  };
}

/** The argv of the server behind a session's process (its sandbox pid 1). */
export function cmdlineOf(pid: number): string[] {
  return readFileSync(`/proc/${serverPidOf(pid)}/cmdline`, 'utf8').split('\0');
}
