// mcpmux prepare (docs/operations.md "Latency"): every enabled service started once, its tools
// listed, exit 0 when all answered and 1 otherwise; no process left behind.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { FIXTURE_SERVER, ROOT } from '../helpers/config.js';
import { packFixturePackage } from '../helpers/fixture-package.js';

const CLI = join(ROOT, 'dist/cli.js');

describe('mcpmux prepare', function () {
  this.timeout(60_000);
  let dir: string;
  beforeEach(() => (dir = mkdtempSync(join(tmpdir(), 'mcpmux-prepare-'))));
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  function prepare(services: Record<string, unknown>) {
    const file = join(dir, 'config.json');
    const session = { sandbox_dir: join(dir, 'sandbox'), package_cache_dir: join(dir, 'cache') };
    writeFileSync(file, JSON.stringify({ session, services }));
    return spawnSync(process.execPath, [CLI, 'prepare', '--config', file], {
      encoding: 'utf8',
      timeout: 50_000,
    });
  }

  it('lists every enabled service once and exits 0', function () {
    const r = prepare({
      fixture: { command: ['node', FIXTURE_SERVER] },
      off: { command: ['node', FIXTURE_SERVER], enabled: false },
    });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^fixture: \d+ tools$/m);
    expect(r.stdout).not.to.include('off:');
  });

  it('exits 1 naming a service that does not start', function () {
    const r = prepare({
      fixture: { command: ['node', FIXTURE_SERVER] },
      broken: { command: ['node', FIXTURE_SERVER, '--exit-on-start=3'] },
    });
    expect(r.status).to.equal(1);
    expect(r.stdout).to.match(/^broken: FAILED: /m);
    expect(r.stdout).to.match(/^fixture: \d+ tools$/m);
  });

  it('fills the package cache of a bunx service (the real bunx, a local package)', function () {
    const tarball = packFixturePackage(dir);
    const bunx = join(ROOT, 'node_modules/.bin/bunx');
    const r = prepare({ pkg: { command: [bunx, '-p', tarball, 'mcpmux-cache-fixture'] } });
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.match(/^pkg: \d+ tools \(package cached\)$/m);
    expect(readdirSync(join(dir, 'cache', 'bunx-ready'))).to.have.length(1);
  });
});
