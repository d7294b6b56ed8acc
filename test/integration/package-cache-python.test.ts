// uvx and pipx through the shared package cache, against a FAKE uv/uvx/pipx
// (test/fixtures/fake-launchers: no uv, pipx or PyPI on the machines here). It checks mcpmux's
// side: the fill command and its environment, once per package; sessions run the installed app
// from the read-only cache; a failed fill runs the service as configured.

import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { textOf } from '../helpers/clients.js';
import { ROOT } from '../helpers/config.js';
import { cmdlineOf, packageCacheSuite } from '../helpers/package-cache.js';

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
  const suite = packageCacheSuite();
  let dir: string;
  before(() => (dir = suite.dir()));
  const makeManager = (command: string[], cacheDir: string) => suite.manager(command, cacheDir);

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
