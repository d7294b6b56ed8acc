import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import { textOf } from '../helpers/clients.js';
import { packFixturePackage } from '../helpers/fixture-package.js';
import { packageCacheSuite } from '../helpers/package-cache.js';
import { serverPidOf } from '../helpers/processes.js';

describe('shared package cache (npx)', function () {
  this.timeout(120_000);
  const suite = packageCacheSuite();
  let dir: string;
  let tarball: string;
  before(function () {
    dir = suite.dir();
    tarball = packFixturePackage(dir);
  });

  const makeManager = (cacheDir: string) =>
    suite.manager(['npx', '-y', `--package=${tarball}`, 'mcpmux-cache-fixture'], cacheDir);

  it('fills the cache once; every session runs the cached bin and cannot write into the cache', async function () {
    const cacheDir = join(dir, 'cache-a');
    const m = makeManager(cacheDir);
    const [a, b] = await Promise.all([
      m.createClient('pkg', { initialize: true }),
      m.createClient('pkg', { initialize: true }),
    ]);
    expect(readdirSync(join(cacheDir, 'npx-ready')), 'one fill for both').to.have.length(1);
    const c = await m.createClient('pkg', { initialize: true });
    for (const client of [a, b, c]) {
      const cmdline = readFileSync(`/proc/${serverPidOf(client.pid!)}/cmdline`, 'utf8');
      expect(cmdline, 'the cached bin, no npm').to.include(`${cacheDir}/npm/_npx/`);
    }
    const npxDir = join(cacheDir, 'npm', '_npx');
    const installed = join(npxDir, readdirSync(npxDir)[0]!, 'node_modules', 'mcpmux-cache-fixture');
    for (const target of [join(installed, 'cli.mjs'), join(cacheDir, 'planted')]) {
      const r = await c.callTool('write-file', { path: target });
      expect(textOf(r), target).to.equal('write error: EROFS');
    }
    expect(existsSync(join(cacheDir, 'planted'))).to.equal(false);
    expect(readFileSync(join(installed, 'cli.mjs'), 'utf8')).to.include('import');
    const home = textOf(await c.callTool('write-file', { path: 'own-file' }));
    expect(home, 'its own directory stays writable').to.equal('written');
  });

  it('validateServices (mcpmux prepare) fills the cache and lists the tools', async function () {
    const cacheDir = join(dir, 'cache-b');
    const m = makeManager(cacheDir);
    const results = await m.validateServices();
    expect(results.pkg!.ok).to.equal(true);
    expect(results.pkg!.tools).to.be.above(4);
    expect(readdirSync(join(cacheDir, 'npx-ready'))).to.have.length(1);
    expect(m.packages!.commandFor(m.services.get('pkg')!.config)?.[0]).to.include(cacheDir);
  });
});
