// Builds complete, typed configs for tests without going through the file loader.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { Config, SandboxConfig, ServiceConfig } from '../../src/config/types.js';

export const ROOT = resolve(import.meta.dirname, '../..');
export const FIXTURE_SERVER = join(ROOT, 'test/fixtures/server.mjs');
export const TODO_SERVER = join(ROOT, 'examples/servers/todo.mjs');
export const EVERYTHING_SERVER = join(
  ROOT,
  'node_modules/@modelcontextprotocol/server-everything/dist/index.js',
);
export const MEMORY_SERVER = join(
  ROOT,
  'node_modules/@modelcontextprotocol/server-memory/dist/index.js',
);

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };

export function sandboxConfig(overrides: DeepPartial<SandboxConfig> = {}): SandboxConfig {
  return {
    enabled: true,
    resource_limits: true,
    restricted_env: true,
    drop_privileges: false,
    working_dir: '',
    isolation: 'auto',
    network: 'host',
    nice: 5,
    sched: 'batch',
    ...overrides,
    binds: (overrides.binds ?? []) as string[],
    limits: {
      cpu_seconds: 300,
      memory_mb: 1024,
      max_processes: 64,
      file_size_mb: 10,
      open_files: 1024,
      ...overrides.limits,
    },
  };
}

export function serviceConfig(
  command: string[],
  overrides: Omit<DeepPartial<ServiceConfig>, 'command'> = {},
): ServiceConfig {
  return {
    description: 'test service',
    enabled: true,
    env: {},
    concurrency: 16,
    queue_limit: 256,
    request_timeout: 60,
    max_request_time: 600,
    idle_timeout: 300,
    warm_spares: 0,
    preload_tools: false, // tests that count spawns stay exact; the preload test turns it on
    ...overrides,
    command,
    sandbox: sandboxConfig(overrides.sandbox ?? {}),
  } as ServiceConfig;
}

/** A fixture-server service: `node test/fixtures/server.mjs ...flags`. */
export function fixtureService(
  flags: string[] = [],
  overrides: Omit<DeepPartial<ServiceConfig>, 'command'> = {},
): ServiceConfig {
  return serviceConfig(['node', FIXTURE_SERVER, ...flags], overrides);
}

export interface TestConfigOptions {
  server?: Partial<Config['server']>;
  session?: Partial<Config['session']>;
  rate_limiting?: Partial<Config['rate_limiting']>;
  rest?: Partial<Config['rest']>;
}

/** A whole config with a fresh sandbox dir; call cleanup() to remove it. */
export function testConfig(
  services: Record<string, ServiceConfig>,
  options: TestConfigOptions = {},
): Config & { cleanup: () => void } {
  const sandboxDir = mkdtempSync(join(tmpdir(), 'mcpmux-test-'));
  return {
    server: {
      host: '127.0.0.1',
      port: 0,
      auth_token: '',
      auth_user: '',
      auth_password: '',
      allowed_origins: [],
      allowed_hosts: [],
      dashboard: true,
      allow_unauthenticated: false,
      tls: { cert: '', key: '' },
      max_message_bytes: 16 * 1024 * 1024,
      max_connections: 10000,
      max_connections_per_address: 1000,
      max_http_connections_per_address: 256,
      headers_timeout: 10,
      body_timeout: 60,
      max_channels_per_connection: 64,
      node_id: 'test-node',
      heartbeat_interval: 30,
      trust_proxy: false,
      shutdown_grace: 5,
      ...options.server,
    },
    session: {
      default_timeout: 300,
      resume_window: 30,
      max_sessions_per_service: 100,
      max_total_sessions: 500,
      sandbox_dir: sandboxDir,
      package_cache_dir: '', // the package-cache test sets one
      uid_range_first: 200000,
      uid_range_size: 10000,
      resume_buffer_messages: 1000,
      max_resume_buffer_bytes: 32 * 1024 * 1024,
      max_buffered_bytes: 32 * 1024 * 1024,
      ...options.session,
    },
    services,
    rate_limiting: {
      enabled: false,
      requests_per_minute: 600,
      default_limits: [],
      tools_limit: '',
      call_limit: '',
      session_delete_limit: '',
      ...options.rate_limiting,
    },
    rest: { ended_sessions: 'restart', ...options.rest },
    logging: { level: 'silent', file: '' },
    cleanup: () => rmSync(sandboxDir, { recursive: true, force: true }),
  };
}
