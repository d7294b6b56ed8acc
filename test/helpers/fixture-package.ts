import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURE_SERVER } from './config.js';

/**
 * A tiny npm package (`mcpmux-cache-fixture`) whose bin is the fixture server, packed into a
 * tarball under `dir`: npx and bunx install it without the network. Returns the tarball's path.
 */
export function packFixturePackage(dir: string): string {
  const pkg = join(dir, 'pkg');
  mkdirSync(pkg);
  writeFileSync(
    join(pkg, 'package.json'),
    JSON.stringify({
      name: 'mcpmux-cache-fixture',
      version: '1.0.0',
      type: 'module',
      bin: { 'mcpmux-cache-fixture': 'cli.mjs' },
    }),
  );
  writeFileSync(
    join(pkg, 'cli.mjs'),
    `#!/usr/bin/env node\nimport ${JSON.stringify(FIXTURE_SERVER)};\n`,
  );
  const out = execFileSync('npm', ['pack', pkg, '--pack-destination', dir, '--silent'], {
    cwd: dir,
    encoding: 'utf8',
    env: {
      ...process.env,
      npm_config_cache: join(dir, 'pack-cache'),
      npm_config_update_notifier: 'false',
    },
  });
  return join(dir, out.trim().split('\n').at(-1)!);
}
