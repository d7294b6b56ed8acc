// The convict schema of mcpmux's configuration (docs/config.md): every key with its doc, format,
// default and MCPMUX_* environment variable. `configSchema` covers the fixed sections; every entry
// of the `services` map is validated on its own against `serviceSchema`. docs/config.md is
// generated from these two trees (src/config/docs.ts), so a key documented here is documented there.
import { hostname } from 'node:os';
import type { LeafSpec } from './formats.js';

export type { LeafSpec } from './formats.js';

export interface SchemaTree {
  readonly [key: string]: SchemaTree | LeafSpec;
}

export function isLeaf(node: SchemaTree | LeafSpec): node is LeafSpec {
  return Object.hasOwn(node, 'default');
}

/** Chosen by measurement (docs/operations.md "Latency"). */
const NICE_DEFAULT = 5;
const SCHED_DEFAULT = 'batch';

export const SERVICE_NAME_PATTERN = /^[A-Za-z0-9_.-]{1,64}$/;

// Small constructors keep the trees below readable.
type Extra = Omit<LeafSpec, 'doc' | 'format' | 'default'>;
const str = (doc: string, def: string, extra: Extra = {}): LeafSpec => ({
  doc,
  format: 'mcpmux-string',
  default: def,
  ...extra,
});
const int = (doc: string, def: number, min: number, extra: Extra = {}): LeafSpec => ({
  doc,
  format: 'mcpmux-int',
  default: def,
  min,
  ...extra,
});
const secs = (doc: string, def: number | null, extra: Extra = {}): LeafSpec => ({
  doc,
  format: 'mcpmux-seconds',
  default: def,
  ...extra,
});
const bool = (doc: string, def: boolean, extra: Extra = {}): LeafSpec => ({
  doc,
  format: 'mcpmux-boolean',
  default: def,
  ...extra,
});

const limits = (doc: string, def: string | string[], env: string): LeafSpec => ({
  doc: `${doc} Empty = none. See docs/operations.md.`,
  format: 'mcpmux-rate-limits',
  default: def,
  env,
});

export const configSchema = {
  server: {
    host: str(
      'Address to listen on. Loopback by default; another address (0.0.0.0) needs auth or allow_unauthenticated (protected mode).',
      '127.0.0.1',
      {
        env: 'MCPMUX_HOST',
        nonEmpty: true,
      },
    ),
    port: int('TCP port for HTTP and WebSocket (0 picks a free port).', 8100, 0, {
      env: 'MCPMUX_PORT',
      max: 65535,
    }),
    auth_token: str(
      'Bearer token. Empty, with no user/password, means no auth (logged as a warning).',
      '',
      {
        env: 'MCPMUX_AUTH_TOKEN',
        sensitive: true,
      },
    ),
    auth_user: str('Basic-auth user name (used together with auth_password).', '', {
      env: 'MCPMUX_AUTH_USER',
    }),
    auth_password: str(
      'Basic-auth password. Always a string, even when it looks like a number.',
      '',
      {
        env: 'MCPMUX_AUTH_PASSWORD',
        sensitive: true,
      },
    ),
    allowed_origins: {
      doc: 'Browser Origins allowed to open WebSockets; [] = same-origin only. Env: comma-separated.',
      format: 'mcpmux-string-list',
      default: [],
      env: 'MCPMUX_ALLOWED_ORIGINS',
    },
    allowed_hosts: {
      doc: 'Host header values allowed (DNS rebinding guard): name or name:port, "*" = any. [] = the loopback names on a loopback host, any Host otherwise. Env: comma-separated.',
      format: 'mcpmux-string-list',
      default: [],
      env: 'MCPMUX_ALLOWED_HOSTS',
    },
    dashboard: bool(
      'Serve the built-in dashboard at GET / (the page holds no data; what it shows comes through the API, behind the same auth).',
      true,
      { env: 'MCPMUX_DASHBOARD' },
    ),
    allow_unauthenticated: bool(
      'Let the relay listen on a non-loopback host with no auth configured (protected mode off).',
      false,
      { env: 'MCPMUX_ALLOW_UNAUTHENTICATED' },
    ),
    tls: {
      cert: str(
        'PEM certificate file; with key, serves HTTPS/WSS. Both empty: plain HTTP, unless a certs/server.pem (cert + key) is in the working directory or beside the config file.',
        '',
        {
          env: 'MCPMUX_TLS_CERT',
          isPath: true,
        },
      ),
      key: str('PEM private key file for tls.cert.', '', { env: 'MCPMUX_TLS_KEY', isPath: true }),
    },
    max_message_bytes: int(
      'Largest WebSocket frame, REST body or server stdout line, in bytes (a 10 MB message passes).',
      16777216,
      1024,
      {
        env: 'MCPMUX_MAX_MESSAGE_BYTES',
      },
    ),
    max_connections: int('Open WebSocket connections, all clients together.', 10000, 1, {
      env: 'MCPMUX_MAX_CONNECTIONS',
    }),
    max_connections_per_address: int(
      'Open WebSocket connections from one client address.',
      1000,
      1,
      {
        env: 'MCPMUX_MAX_CONNECTIONS_PER_ADDRESS',
      },
    ),
    max_http_connections_per_address: int(
      'Open plain-HTTP connections (keep-alive or waiting for a request) from one peer address; past it a new one is closed at once. 0 = no limit.',
      256,
      0,
      { env: 'MCPMUX_MAX_HTTP_CONNECTIONS_PER_ADDRESS' },
    ),
    headers_timeout: secs("Seconds a client gets to send a request's headers (then 408).", 10, {
      env: 'MCPMUX_HEADERS_TIMEOUT',
      above: 0,
    }),
    body_timeout: secs(
      'Seconds a client gets to send a whole request, headers and body (then 408); >= headers_timeout.',
      60,
      { env: 'MCPMUX_BODY_TIMEOUT', above: 0 },
    ),
    max_channels_per_connection: int('Channels one /ws connection may have open.', 64, 1, {
      env: 'MCPMUX_MAX_CHANNELS_PER_CONNECTION',
    }),
    node_id: str(
      "This relay's name, the start of every resume token it issues (`<node_id>.<secret>`), so a load balancer can route a resume to the relay that holds the session. Letters, digits, '.', '-', '_'.",
      hostname(),
      { env: 'MCPMUX_NODE_ID', nonEmpty: true, docDefault: 'the host name' },
    ),
    heartbeat_interval: secs(
      'Seconds between WebSocket pings on /mcp and /ws; a peer that has not answered the previous ping by the next is dropped and its sessions wait resume_window. Also the interval of keep-alive comments on Streamable HTTP event streams. 0 = off.',
      30,
      { env: 'MCPMUX_HEARTBEAT_INTERVAL', min: 0 },
    ),
    trust_proxy: bool(
      'Behind a reverse proxy: take the client address (per-address limits, logs) from the last X-Forwarded-For entry.',
      false,
      { env: 'MCPMUX_TRUST_PROXY' },
    ),
    shutdown_grace: secs(
      'Seconds in-flight requests get to finish on SIGTERM/SIGINT; then each gets shutting_down. The process exits within this + 5 s.',
      10,
      {
        env: 'MCPMUX_SHUTDOWN_GRACE',
        min: 0,
      },
    ),
  },
  session: {
    default_timeout: secs(
      'Idle seconds before a session is stopped (per service: idle_timeout).',
      300,
      {
        env: 'MCPMUX_SESSION_TIMEOUT',
        above: 0,
      },
    ),
    resume_window: secs('Seconds a session whose connection dropped waits to be resumed.', 30, {
      env: 'MCPMUX_RESUME_WINDOW',
      min: 0,
    }),
    max_sessions_per_service: int('Open sessions per service; beyond it: session_limit.', 100, 1, {
      env: 'MCPMUX_MAX_SESSIONS_PER_SERVICE',
    }),
    max_total_sessions: int('Open sessions, all services together.', 500, 1, {
      env: 'MCPMUX_MAX_TOTAL_SESSIONS',
    }),
    sandbox_dir: str(
      'Each session gets its own HOME/TMPDIR below it, removed on stop; those an earlier run left are removed at start.',
      './sandbox',
      {
        env: 'MCPMUX_SANDBOX_DIR',
        nonEmpty: true,
        isPath: true,
      },
    ),
    package_cache_dir: str(
      'Shared cache of npx-launched servers: filled by the relay, read-only to sessions; empty = no cache. See docs/operations.md "Latency".',
      './.mcpmux-cache',
      { env: 'MCPMUX_PACKAGE_CACHE_DIR', isPath: true },
    ),
    uid_range_first: int(
      'First uid (and gid) given to sessions that drop privileges (relay as root).',
      200000,
      1,
      { env: 'MCPMUX_UID_RANGE_FIRST', max: 4294967294 },
    ),
    uid_range_size: int('How many uids, one per live session; none left: spawn_failed.', 10000, 1, {
      env: 'MCPMUX_UID_RANGE_SIZE',
    }),
    resume_buffer_messages: int('Server messages kept for a detached session.', 1000, 0, {
      env: 'MCPMUX_RESUME_BUFFER_MESSAGES',
    }),
    max_resume_buffer_bytes: int(
      'Bytes of server messages kept for a detached session; past it the session ends (slow_consumer).',
      33554432,
      1024,
      { env: 'MCPMUX_MAX_RESUME_BUFFER_BYTES' },
    ),
    max_buffered_bytes: int(
      'Output bytes queued to a slow client before slow_consumer (at least two largest messages).',
      33554432,
      1024,
      {
        env: 'MCPMUX_MAX_BUFFERED_BYTES',
      },
    ),
  },
  rate_limiting: {
    enabled: bool(
      'Limit requests per client address (a token bucket; see docs/operations.md).',
      false,
      {
        env: 'MCPMUX_RATE_LIMIT_ENABLED',
      },
    ),
    requests_per_minute: int(
      'Requests one client may make per minute; beyond it: rate_limited.',
      600,
      1,
      {
        env: 'MCPMUX_REQUESTS_PER_MINUTE',
      },
    ),
    // SignalWire gateway keys (flask-limiter strings); each applies when set, whatever `enabled`.
    default_limits: limits(
      'Gateway key: limits per client and route for GET /health, /services and /sessions.',
      [],
      'MCPMUX_RATE_DEFAULT_LIMITS',
    ),
    tools_limit: limits(
      'Gateway key: limit per client for GET /services/{name}/tools.',
      '',
      'MCPMUX_RATE_TOOLS_LIMIT',
    ),
    call_limit: limits(
      'Gateway key: limit per client for POST /services/{name}/call.',
      '',
      'MCPMUX_RATE_CALL_LIMIT',
    ),
    session_delete_limit: limits(
      'Gateway key: limit per client for DELETE /sessions/{id}.',
      '',
      'MCPMUX_RATE_SESSION_DELETE_LIMIT',
    ),
  },
  rest: {
    ended_sessions: {
      doc: 'A REST session that ended on its own (idle, crash): "restart" serves the next call on a fresh one (session_restarted: true in the answer); "report" answers it with the end reason once (410/502).',
      format: 'mcpmux-ended-sessions',
      default: 'restart',
      env: 'MCPMUX_REST_ENDED_SESSIONS',
    },
  },
  logging: {
    level: {
      doc: 'pino log level, any case; Python names WARNING and CRITICAL are accepted.',
      format: 'mcpmux-log-level',
      default: 'info',
      env: 'MCPMUX_LOG_LEVEL',
    },
    file: str('Log file. Empty = standard output.', '', { env: 'MCPMUX_LOG_FILE', isPath: true }),
  },
} as const satisfies SchemaTree;

/** One entry of `services`; no environment variables (use ${VAR} in the file instead). */
export const serviceSchema = {
  command: {
    doc: 'argv, no shell; argv[0] is looked up on PATH. Relative paths: see "Path resolution".',
    format: 'mcpmux-command',
    default: [],
  },
  description: str('Shown by GET /services and mcpmux --check.', ''),
  enabled: bool('A disabled service is not listed and refuses sessions (404).', true),
  env: {
    doc: 'Variables set for the process, even under restricted_env (may set NODE_OPTIONS etc.).',
    format: 'mcpmux-string-map',
    default: {},
  },
  concurrency: int('In-flight requests to this service, all sessions together.', 16, 1),
  queue_limit: int('Requests waiting beyond concurrency; the next one gets queue_full.', 256, 0),
  request_timeout: secs('Seconds before an unanswered request gets request_timeout.', 60, {
    above: 0,
  }),
  max_request_time: secs(
    'Seconds a request may take at most: progress restarts request_timeout, and a request whose server waits on the client (sampling, elicitation) is ended by this alone.',
    600,
    { above: 0 },
  ),
  idle_timeout: secs('Idle seconds before a session of this service is stopped.', null, {
    nullable: true,
    above: 0,
    docDefault: 'session.default_timeout',
  }),
  warm_spares: int(
    'Server processes started ahead (sandboxed, not initialized) and handed to the next session that opens; they count against the session limits. See docs/operations.md "Latency".',
    0,
    0,
    { max: 64 },
  ),
  preload_tools: bool(
    'Fetch the tool list at relay start, in the background (a failure is logged and retried on the next GET .../tools). See docs/operations.md "Latency".',
    true,
  ),
  sandbox: {
    enabled: bool('Run in the sandbox (own HOME/TMPDIR, limits, env filter).', true),
    resource_limits: bool('Apply the limits below (prlimit; memory as RLIMIT_DATA).', true),
    restricted_env: bool('Pass only PATH, HOME, TMPDIR, LANG and the service env.', true),
    drop_privileges: bool(
      'When the relay runs as root, run as a uid of its own per session (session.uid_range_*).',
      false,
    ),
    working_dir: str('cwd of the process; empty = the session directory.', '', { isPath: true }),
    isolation: {
      doc: 'auto = namespaces where bubblewrap works, else rlimits (warned). none = like enabled: false. See docs/operations.md.',
      format: 'mcpmux-choice',
      choices: ['auto', 'namespaces', 'rlimits', 'none'],
      default: 'auto',
    },
    network: {
      doc: 'host = the host network; none = a private loopback only (needs namespaces: without bubblewrap the relay does not start).',
      format: 'mcpmux-choice',
      choices: ['host', 'none'],
      default: 'host',
    },
    binds: {
      doc: 'Under namespaces: extra absolute paths made visible, read-only, or writable with :rw.',
      format: 'mcpmux-binds',
      default: [],
    },
    nice: int(
      'Niceness the server runs at (nice -n), so the relay gets the CPU first; 0 = the relay\'s own. Applied with the sandbox off too. See docs/operations.md "Latency".',
      NICE_DEFAULT,
      0,
      { max: 19 },
    ),
    sched: {
      doc: 'Scheduling policy of the server (chrt): other = normal, batch = SCHED_BATCH (no wake-up preemption of the relay), idle = only spare CPU. Applied with the sandbox off too.',
      format: 'mcpmux-choice',
      choices: ['other', 'batch', 'idle'],
      default: SCHED_DEFAULT,
    },
    limits: {
      cpu_seconds: int('RLIMIT_CPU in seconds (0 = not applied).', 300, 0),
      memory_mb: int('RLIMIT_DATA in MiB (0 = not applied).', 1024, 0),
      max_processes: int('RLIMIT_NPROC (0 = not applied).', 64, 0),
      file_size_mb: int('RLIMIT_FSIZE in MiB (0 = not applied).', 10, 0),
      open_files: int('RLIMIT_NOFILE (0 = not applied).', 1024, 0),
    },
  },
} as const satisfies SchemaTree;

/** Every leaf of `tree` with its dotted path, in declaration order. */
export function schemaLeaves(tree: SchemaTree, prefix = ''): [string, LeafSpec][] {
  return Object.entries(tree).flatMap(([key, node]) =>
    isLeaf(node) ? [[prefix + key, node]] : schemaLeaves(node, `${prefix}${key}.`),
  );
}
