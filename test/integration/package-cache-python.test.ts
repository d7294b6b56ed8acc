// uvx and pipx through the shared package cache, against a FAKE uv/uvx/pipx
// (test/fixtures/fake-launchers: no uv, pipx or PyPI on the machines here). It checks mcpmux's
// side: the fill command and its environment, once per package; sessions run the installed app
// from the read-only cache; a failed fill runs the service as configured.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { MCPManager } from '../../src/sessions/mcp-manager.js';
import { textOf } from '../helpers/clients.js';
import { ROOT, serviceConfig, testConfig } from '../helpers/config.js';
import { serverPidOf } from '../helpers/processes.js';

const FAKES = join(ROOT, 'test/fixtures/fake-launchers');

const CASES = [
  {
    launcher: 'uvx',
    command: (spec: string) => [
      join(FAKES, 'uvx'),
      '--python',
      '3.12',
      '--from',
      spec,
      'mcp-fixture',
    ],
    argv: (spec: string) => ['uv', 'tool', 'install', '--force', '--python=3.12', spec],
    log: 'uvx-cache/cache/fills.log',
    app: 'tools/mcp-fixture/bin/mcp-fixture',
    env: (cache: string, pkg: string) => ({
      UV_TOOL_DIR: join(pkg, 'tools'),
      UV_TOOL_BIN_DIR: join(pkg, 'bin'),
      UV_CACHE_DIR: join(cache, 'uvx-cache/cache'),
      UV_PYTHON_INSTALL_DIR: join(cache, 'uvx-cache/python'),
      HOME: join(cache, 'home'),
    }),
  },
  {
    launcher: 'pipx',
    command: (spec: string) => [join(FAKES, 'pipx'), 'run', '--spec', spec, 'mcp-fixture'],
    argv: (spec: string) => ['pipx', 'install', '--force', spec],
    log: 'pipx-cache/pip/fills.log',
    app: 'home/venvs/mcp-fixture/bin/mcp-fixture',
    env: (cache: string, pkg: string) => ({
      PIPX_HOME: join(pkg, 'home'),
      PIPX_BIN_DIR: join(pkg, 'bin'),
      PIP_CACHE_DIR: join(cache, 'pipx-cache/pip'),
      HOME: join(cache, 'home'),
    }),
  },
];

describe('shared package cache (uvx, pipx; fake launchers)', function () {
  this.timeout(60_000);
  let dir: string;
  let manager: MCPManager | undefined;
  let cleanup: (() => void) | undefined;

  before(() => (dir = mkdtempSync(join(tmpdir(), 'mcpmux-pkgcache-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));
  afterEach(async () => {
    await manager?.shutdown();
    cleanup?.();
    manager = undefined;
  });

  function makeManager(command: string[], cacheDir: string) {
    const config = testConfig(
      { pkg: serviceConfig(command) },
      { session: { package_cache_dir: cacheDir } },
    );
    cleanup = config.cleanup;
    manager = new MCPManager(config, { stopGraceMs: 300 });
    return manager;
  }

  const cmdlineOf = (pid: number) =>
    readFileSync(`/proc/${serverPidOf(pid)}/cmdline`, 'utf8').split('\0');

  for (const c of CASES) {
    it(`${c.launcher}: fills once with its installer; sessions run the app read-only`, async function () {
      const cacheDir = join(dir, `${c.launcher}-a`);
      const m = makeManager(c.command('mcp-fixture==1.0'), cacheDir);
      const [a, b] = await Promise.all([
        m.createClient('pkg', { initialize: true }),
        m.createClient('pkg', { initialize: true }),
      ]);
      await m.createClient('pkg', { initialize: true });
      const fills = readFileSync(join(cacheDir, c.log), 'utf8').trim().split('\n');
      expect(fills, 'one fill for three sessions').to.have.length(1);
      const [hash] = readdirSync(join(cacheDir, c.launcher));
      const pkgDir = join(cacheDir, c.launcher, hash!);
      const fill = JSON.parse(fills[0]!) as { argv: string[]; env: Record<string, string> };
      expect(fill.argv).to.deep.equal(c.argv('mcp-fixture==1.0'));
      expect(fill.env).to.include(c.env(cacheDir, pkgDir));
      const app = join(pkgDir, c.app);
      for (const client of [a, b]) {
        expect(cmdlineOf(client.pid!), 'the installed app, no launcher').to.include(app);
        expect(cmdlineOf(client.pid!).join(' ')).not.to.include(FAKES);
      }
      for (const target of [app, join(cacheDir, 'planted')]) {
        expect(textOf(await a.callTool('write-file', { path: target })), target).to.equal(
          'write error: EROFS',
        );
      }
      expect(existsSync(join(cacheDir, 'planted'))).to.equal(false);
    });

    it(`${c.launcher}: a failed fill runs the service as configured`, async function () {
      const cacheDir = join(dir, `${c.launcher}-b`);
      const m = makeManager(c.command('broken==1'), cacheDir);
      const client = await m.createClient('pkg', { initialize: true });
      expect(cmdlineOf(client.pid!).join(' ')).to.include(join(FAKES, c.launcher));
      expect(readdirSync(join(cacheDir, `${c.launcher}-ready`))).to.deep.equal([]);
    });
  }
});
