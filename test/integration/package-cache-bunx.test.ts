import { chmodSync, existsSync, lstatSync, readdirSync, readFileSync } from 'node:fs';
import { basename, join } from 'node:path';
import { expect } from 'chai';
import type { SandboxConfig } from '../../src/config/types.js';
import { textOf } from '../helpers/clients.js';
import { ROOT } from '../helpers/config.js';
import { packFixturePackage } from '../helpers/fixture-package.js';
import { cmdlineOf, packageCacheSuite } from '../helpers/package-cache.js';

/** The real bunx (devDependency `bun`), by absolute path: bun need not be on PATH. */
const BUNX = join(ROOT, 'node_modules/.bin/bunx');
const BUN = join(ROOT, 'node_modules/.bin/bun');

/** Every path under `dir` (not following symlinks). */
function walk(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    return e.isDirectory() ? [path, ...walk(path)] : [path];
  });
}

describe('shared package cache (bunx)', function () {
  this.timeout(120_000);
  const suite = packageCacheSuite();
  let dir: string;
  let tarball: string;
  before(function () {
    dir = suite.dir();
    chmodSync(dir, 0o755); // a session's own uid (drop_privileges) reaches the cache below
    tarball = packFixturePackage(dir);
  });

  const makeManager = (
    cacheDir: string,
    flags: string[] = [],
    sandbox: Partial<SandboxConfig> = {},
  ) =>
    suite.manager([BUNX, ...flags, '-p', tarball, 'mcpmux-cache-fixture'], cacheDir, { sandbox });

  it('fills once with bun; sessions run the cached bin under node and cannot write into the cache', async function () {
    const cacheDir = join(dir, 'cache-a');
    const m = makeManager(cacheDir);
    const [a, b] = await Promise.all([
      m.createClient('pkg', { initialize: true }),
      m.createClient('pkg', { initialize: true }),
    ]);
    expect(readdirSync(join(cacheDir, 'bunx-ready')), 'one fill for both').to.have.length(1);
    const [installDir] = readdirSync(join(cacheDir, 'bunx'));
    const installed = join(cacheDir, 'bunx', installDir!, 'node_modules', 'mcpmux-cache-fixture');
    for (const client of [a, b]) {
      const cmdline = cmdlineOf(client.pid!);
      expect(cmdline.join(' '), 'node runs the cached bin, no bun').to.include(
        `node ${join(installed, 'cli.mjs')}`,
      );
      expect(cmdline.map((arg) => basename(arg))).not.to.include.members(['bun', 'bunx']);
    }
    for (const target of [join(installed, 'cli.mjs'), join(cacheDir, 'planted')]) {
      const r = await a.callTool('write-file', { path: target });
      expect(textOf(r), target).to.equal('write error: EROFS');
    }
    expect(existsSync(join(cacheDir, 'planted'))).to.equal(false);
    expect(readFileSync(join(installed, 'cli.mjs'), 'utf8')).to.include('import');
    expect(textOf(await b.callTool('write-file', { path: 'own-file' }))).to.equal('written');
  });

  it('a later relay without network starts its sessions from the filled cache, no fill', async function () {
    const cacheDir = join(dir, 'cache-b');
    const first = makeManager(cacheDir);
    await first.createClient('pkg', { initialize: true });
    await first.shutdown();
    const m = makeManager(cacheDir, [], { network: 'none' }); // no network needed any more
    const command = m.packages!.commandFor(m.services.get('pkg')!.config);
    expect(command?.[0], 'ready before any session').to.include(join(cacheDir, 'bunx'));
    const marker = readdirSync(join(cacheDir, 'bunx-ready'))[0]!;
    const before = lstatSync(join(cacheDir, 'bunx-ready', marker)).mtimeMs;
    const client = await m.createClient('pkg', { initialize: true });
    expect(lstatSync(join(cacheDir, 'bunx-ready', marker)).mtimeMs, 'no new fill').to.equal(before);
    expect(cmdlineOf(client.pid!).join(' ')).to.include(join(cacheDir, 'bunx'));
  });

  it('--bun runs the cached bin under bun; dropped privileges cannot write the cache under rlimits', async function () {
    const cacheDir = join(dir, 'cache-c');
    const m = makeManager(cacheDir, ['--bun', '-y'], {
      isolation: 'rlimits',
      drop_privileges: true,
    });
    const client = await m.createClient('pkg', { initialize: true });
    const cmdline = cmdlineOf(client.pid!);
    expect(cmdline.slice(0, 2), 'bun beside bunx, no auto-install').to.deep.equal([
      BUN,
      '--no-install',
    ]);
    expect(cmdline[2]).to.include(join(cacheDir, 'bunx'));
    for (const path of walk(cacheDir)) {
      const st = lstatSync(path);
      if (st.isSymbolicLink()) continue;
      expect(st.mode & 0o022, `${path} writable by group or others`).to.equal(0);
    }
    const [installDir] = readdirSync(join(cacheDir, 'bunx'));
    const target = join(
      cacheDir,
      'bunx',
      installDir!,
      'node_modules',
      'mcpmux-cache-fixture',
      'cli.mjs',
    );
    expect(textOf(await client.callTool('write-file', { path: target }))).to.equal(
      'write error: EACCES',
    );
    expect(
      textOf(await client.callTool('write-file', { path: join(cacheDir, 'planted') })),
    ).to.equal('write error: EACCES');
  });
});
