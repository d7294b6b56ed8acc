// npm run bench -- … is the throughput bench; this one measures how fast a new session answers
// `initialize` (docs/operations.md "Latency"):
// `node --import tsx scripts/bench-start.ts [--samples N] [--skip-npx] [--bunx]`.
// For `["npx", "-y", "@modelcontextprotocol/server-memory"]` (needs the npm registry once) it
// times the first session (the package cache is filled) and the next ones, against the same
// service without the cache (each session downloads into its own fresh HOME); and the fixture
// server with and without a warm spare (warm_spares: 1; each open waits until a spare is ready).
// --bunx adds `[node_modules/.bin/bunx, "@modelcontextprotocol/server-memory"]` with the cache.

import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import { MCPManager } from '../src/sessions/mcp-manager.js';
import { median } from './bench/rest-load.js';

const { values } = parseArgs({
  options: {
    samples: { type: 'string', default: '5' },
    'skip-npx': { type: 'boolean' },
    bunx: { type: 'boolean' },
  },
});
const npx = values['skip-npx'] !== true;
const samples = Number(values.samples);
const ROOT = resolve(import.meta.dirname, '..');
const round = (x: number) => Math.round(x);

async function timeSessions(
  name: string,
  command: string[],
  cache: boolean,
  n: number,
  spares = 0,
): Promise<number[]> {
  const dir = mkdtempSync(join(tmpdir(), 'mcpmux-bench-start-'));
  const file = join(dir, 'config.json');
  const session = {
    sandbox_dir: join(dir, 'sandbox'),
    package_cache_dir: cache ? join(dir, 'cache') : '',
  };
  const service = { command, warm_spares: spares };
  writeFileSync(file, JSON.stringify({ session, services: { [name]: service } }));
  const config = loadConfig({ file, cwd: dir, env: {} }).config;
  const manager = new MCPManager(config, { stopGraceMs: 500 });
  const times: number[] = [];
  try {
    manager.startSpares();
    for (let i = 0; i < n; i++) {
      while (manager.spareCount(name) < spares) await new Promise((r) => setTimeout(r, 10));
      const t0 = performance.now();
      const client = await manager.createClient(name, { initialize: true });
      times.push(performance.now() - t0);
      await client.stop();
    }
  } finally {
    await manager.shutdown();
    rmSync(dir, { recursive: true, force: true });
  }
  return times;
}

const memory = ['npx', '-y', '@modelcontextprotocol/server-memory'];
const cached = npx ? await timeSessions('memory', memory, true, samples + 1) : [];
const bunxMemory = [join(ROOT, 'node_modules/.bin/bunx'), '@modelcontextprotocol/server-memory'];
const bunx =
  values.bunx === true ? await timeSessions('memory', bunxMemory, true, samples + 1) : [];
const uncached = npx ? await timeSessions('memory', memory, false, Math.min(samples, 3)) : [];
const fixtureCommand = ['node', join(ROOT, 'test/fixtures/server.mjs')];
const fixture = await timeSessions('fixture', fixtureCommand, false, samples);
const spared = await timeSessions('fixture', fixtureCommand, false, samples, 1);
const line = (label: string, t: number[]) =>
  `${label.padEnd(52)} median ${String(round(median(t))).padStart(6)} ms  (${t.map(round).join(', ')})`;
process.stdout.write(
  [
    'open → initialize answered (ms), MCPManager.createClient(initialize), sandbox on',
    ...(npx
      ? [
          line('npx server-memory, cache: first session (fills)', cached.slice(0, 1)),
          line('npx server-memory, cache: later sessions', cached.slice(1)),
          line('npx server-memory, no cache (every session)', uncached),
        ]
      : []),
    ...(bunx.length > 0
      ? [
          line('bunx server-memory, cache: first session (fills)', bunx.slice(0, 1)),
          line('bunx server-memory, cache: later sessions', bunx.slice(1)),
        ]
      : []),
    line('fixture server, spawned on open', fixture),
    line('fixture server, warm spare ready', spared),
    '',
  ].join('\n'),
);
