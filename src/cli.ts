#!/usr/bin/env -S node --max-semi-space-size=2
// The mcpmux command. The only file that reads process.argv, calls process.exit or installs
// signal handlers.
//
// The shebang caps V8's young generation at 2 MiB per semi-space: with the default (up to 16 MiB)
// the burst of allocation while sessions open grows it, and that, not the sessions, is most of the
// relay's resident memory (docs/operations.md, "Memory"). npm start passes the same flag.
//
//   mcpmux [--config FILE] [--host H] [--port N] [--log-level L] [--allow-origin O]...  run it
//   mcpmux --check [--config FILE]                                  validate, print, exit 0/1
//   mcpmux prepare [--config FILE]                                  fill the package cache, list tools
//   mcpmux loadtest --url URL --service NAME [...]                  drive a running relay

import { existsSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { ConfigError, describeServices, loadConfig } from './config/load.js';
import type { Config } from './config/types.js';
import { createLogger, logDestination } from './log.js';
import { VERSION, createRelay } from './relay.js';
import { LOG_FLUSH_MS, signalHandler } from './shutdown-signals.js';

const PACKAGE_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');

const USAGE = `mcpmux ${VERSION} — WebSocket multiplexing relay for stdio MCP servers

Usage:
  mcpmux [--config FILE] [--host HOST] [--port PORT] [--log-level LEVEL] [--allow-origin ORIGIN]...
  mcpmux --check [--config FILE]
  mcpmux prepare [--config FILE]   fill the shared package cache (npx/bunx/uvx/pipx) and run
                                   tools/list once per enabled service; exit 0 if all answer
  mcpmux loadtest --url URL --service NAME [options]   (mcpmux loadtest --help)

Options:
  -c, --config FILE     JSON config (default: ./config/default.json, else the bundled one)
      --host HOST       listen address (overrides server.host / MCPMUX_HOST)
      --port PORT       listen port; 0 picks a free one (overrides server.port / MCPMUX_PORT)
      --log-level LEVEL fatal|error|warn|info|debug|trace|silent
      --allow-origin ORIGIN
                        a browser Origin (scheme://host[:port]) allowed to use the relay, e.g.
                        http://localhost:5173; repeatable; added to server.allowed_origins
      --check           validate the config, print the services, exit 0 (valid) or 1
  -h, --help            this text
  -v, --version         print the version
`;

/** The config file and the directory its relative paths resolve against. */
function pickConfig(file: string | undefined): { file: string; cwd: string } {
  if (file !== undefined) return { file: resolve(file), cwd: process.cwd() };
  const local = resolve('config/default.json');
  if (existsSync(local)) return { file: local, cwd: process.cwd() };
  return { file: resolve(PACKAGE_ROOT, 'config/default.json'), cwd: PACKAGE_ROOT };
}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'loadtest') {
    const { runLoadtest } = await import('./loadtest/cli.js');
    return runLoadtest(argv.slice(1));
  }
  const prepare = argv[0] === 'prepare';
  const { values } = parseArgs({
    args: prepare ? argv.slice(1) : argv,
    options: {
      config: { type: 'string', short: 'c' },
      host: { type: 'string' },
      port: { type: 'string' },
      'log-level': { type: 'string' },
      'allow-origin': { type: 'string', multiple: true },
      check: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
      version: { type: 'boolean', short: 'v' },
    },
    strict: true,
  });
  if (values.help === true) {
    process.stdout.write(USAGE);
    return 0;
  }
  if (values.version === true) {
    process.stdout.write(`${VERSION}\n`);
    return 0;
  }
  const { file, cwd } = pickConfig(values.config);
  let loaded;
  try {
    loaded = loadConfig({
      file,
      cwd,
      args: {
        ...(values.host !== undefined && { host: values.host }),
        ...(values.port !== undefined && { port: values.port }),
        ...(values['log-level'] !== undefined && { logLevel: values['log-level'] }),
        ...(values['allow-origin'] !== undefined && { allowOrigins: values['allow-origin'] }),
      },
    });
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    process.stderr.write(`mcpmux: invalid configuration\n${err.message}\n`);
    return 1;
  }
  const { config, warnings, notices } = loaded;
  if (prepare) return prepareServices(config, file);
  if (values.check === true) {
    for (const w of warnings) process.stdout.write(`warning: ${w}\n`);
    for (const n of notices) process.stdout.write(`${n}\n`);
    process.stdout.write(`config ${file} is valid\n${describeServices(config)}\n`);
    return 0;
  }

  let output;
  try {
    output = logDestination(config.logging.file);
  } catch (err) {
    process.stderr.write(`mcpmux: cannot open logging.file: ${(err as Error).message}\n`);
    return 1;
  }
  const log = createLogger({ level: config.logging.level, stream: output });
  for (const w of warnings) log.warn({ config: file }, w);
  for (const n of notices) log.info({ config: file }, n);
  const { auth_token, auth_user, auth_password } = config.server;
  if (auth_token === '' && (auth_user === '' || auth_password === '')) {
    log.warn('no auth_token or auth_user/auth_password set: the relay accepts every client');
  }
  const relay = createRelay(config, { logger: log, configFile: file });
  // Shutdown always ends (shutdown-signals.ts): bounded, and a second signal ends it at once.
  const onSignal = signalHandler({
    close: () => relay.close(),
    budgetMs: relay.shutdownBudgetMs,
    killAll: () => relay.manager.killAll(),
    flushWithin: (ms) => output.flushWithin(ms),
    exit: (code) => process.exit(code),
    log,
  });
  process.on('SIGTERM', () => onSignal('SIGTERM'));
  process.on('SIGINT', () => onSignal('SIGINT'));
  try {
    await relay.start();
  } catch (err) {
    log.fatal({ err: (err as Error).message }, 'cannot start');
    await relay.close();
    await output.flushWithin(LOG_FLUSH_MS);
    return 1;
  }
  return -1; // keep running until a signal
}

/** mcpmux prepare: every enabled service started once (its package cached) and its tools listed. */
async function prepareServices(config: Config, file: string): Promise<number> {
  const { MCPManager } = await import('./sessions/mcp-manager.js');
  const log = createLogger({ level: 'warn', stream: logDestination('') });
  const manager = new MCPManager(config, { logger: log, configFile: file });
  try {
    const results = await manager.validateServices();
    let ok = true;
    for (const [name, r] of Object.entries(results)) {
      ok &&= r.ok;
      const cached = manager.packages?.commandFor(config.services[name]!) !== undefined;
      const how = r.ok ? `${String(r.tools)} tools` : `FAILED: ${r.error ?? ''}`;
      process.stdout.write(`${name}: ${how}${cached ? ' (package cached)' : ''}\n`);
    }
    return ok ? 0 : 1;
  } finally {
    await manager.shutdown();
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`mcpmux: ${(err as Error).message}\n`);
    process.exitCode = 1;
  },
);
