// The typed, frozen configuration the rest of mcpmux reads (docs/config.md). Key names follow the config
// file (snake_case) so a key path in an error message is the path a user edits. Units: seconds for
// *_timeout / resume_window / request_timeout / cpu_seconds, bytes for *_bytes, MiB for *_mb.

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export interface SandboxLimits {
  readonly cpu_seconds: number;
  readonly memory_mb: number;
  readonly max_processes: number;
  readonly file_size_mb: number;
  readonly open_files: number;
}

export interface SandboxConfig {
  readonly enabled: boolean;
  readonly resource_limits: boolean;
  readonly restricted_env: boolean;
  readonly drop_privileges: boolean;
  /** Absolute path, or '' for the session's own directory. */
  readonly working_dir: string;
  /** auto: namespaces where bubblewrap works, else rlimits (docs/operations.md). */
  readonly isolation: 'auto' | 'namespaces' | 'rlimits' | 'none';
  /** Under namespaces: none = a private loopback only. */
  readonly network: 'host' | 'none';
  /** Under namespaces: absolute paths, each optionally ending in :ro (default) or :rw. */
  readonly binds: readonly string[];
  /** Niceness added to the server (0 = the relay's own); see docs/operations.md "Latency". */
  readonly nice: number;
  /** Linux scheduling policy of the server: other (normal), batch or idle. */
  readonly sched: 'other' | 'batch' | 'idle';
  readonly limits: SandboxLimits;
}

export interface ServiceConfig {
  /** argv; argv[0] looked up on PATH. Relative paths already resolved by the loader. */
  readonly command: readonly string[];
  readonly description: string;
  readonly enabled: boolean;
  readonly env: Readonly<Record<string, string>>;
  readonly concurrency: number;
  readonly queue_limit: number;
  /** seconds */
  readonly request_timeout: number;
  /** seconds: the most a request may take, however much progress it reports */
  readonly max_request_time: number;
  /** seconds; the loader fills it from session.default_timeout when the file does not set it. */
  readonly idle_timeout: number;
  /** Processes started ahead, handed to the next sessions. */
  readonly warm_spares: number;
  /** Fetch the tool list at relay start (background). */
  readonly preload_tools: boolean;
  readonly sandbox: SandboxConfig;
}

export interface ServerConfig {
  readonly host: string;
  readonly port: number;
  readonly auth_token: string;
  readonly auth_user: string;
  readonly auth_password: string;
  readonly allowed_origins: readonly string[];
  /** Host header values allowed ([] = loopback names on a loopback host, any on another). */
  readonly allowed_hosts: readonly string[];
  /** The built-in dashboard at GET / (and its live stream, GET /events). */
  readonly dashboard: boolean;
  /** Non-loopback host without auth allowed on purpose (protected mode off). */
  readonly allow_unauthenticated: boolean;
  readonly tls: { readonly cert: string; readonly key: string };
  readonly max_message_bytes: number;
  readonly max_connections: number;
  readonly max_connections_per_address: number;
  /** Open plain-HTTP sockets from one peer address (0 = no limit). */
  readonly max_http_connections_per_address: number;
  /** Seconds to receive a request's headers. */
  readonly headers_timeout: number;
  /** Seconds to receive a whole request (headers and body). */
  readonly body_timeout: number;
  readonly max_channels_per_connection: number;
  /** Start of every resume token (default: the host name). */
  readonly node_id: string;
  /** Seconds between WebSocket pings; 0 = no heartbeat. */
  readonly heartbeat_interval: number;
  /** Client address from the last X-Forwarded-For entry (behind a reverse proxy). */
  readonly trust_proxy: boolean;
  /** Seconds in-flight requests get to finish on SIGTERM before sockets close. */
  readonly shutdown_grace: number;
}

export interface SessionConfig {
  readonly default_timeout: number;
  readonly resume_window: number;
  readonly max_sessions_per_service: number;
  readonly max_total_sessions: number;
  /** Absolute path. */
  readonly sandbox_dir: string;
  /** Absolute path of the shared package cache, or '' for none. */
  readonly package_cache_dir: string;
  /** Per-session uids (drop_privileges as root): [uid_range_first, + uid_range_size). */
  readonly uid_range_first: number;
  readonly uid_range_size: number;
  /** Server messages buffered for a detached session while it waits to be resumed. */
  readonly resume_buffer_messages: number;
  /** Bytes of server messages buffered for a detached session; past it: slow_consumer. */
  readonly max_resume_buffer_bytes: number;
  /** Bytes of output a channel may have queued towards a slow client before slow_consumer. */
  readonly max_buffered_bytes: number;
}

export interface RateLimitConfig {
  readonly enabled: boolean;
  readonly requests_per_minute: number;
  /** SignalWire gateway keys: flask-limiter strings (src/util/flask-limits.ts). */
  readonly default_limits: string | readonly string[];
  readonly tools_limit: string | readonly string[];
  readonly call_limit: string | readonly string[];
  readonly session_delete_limit: string | readonly string[];
}

export interface RestConfig {
  /** What a REST call gets when its session ended on its own (idle timeout, crash). */
  readonly ended_sessions: 'restart' | 'report';
}

export interface LoggingConfig {
  readonly level: LogLevel;
  /** Absolute path, or '' for stdout. */
  readonly file: string;
}

export interface Config {
  readonly server: ServerConfig;
  readonly session: SessionConfig;
  readonly services: Readonly<Record<string, ServiceConfig>>;
  readonly rate_limiting: RateLimitConfig;
  readonly rest: RestConfig;
  readonly logging: LoggingConfig;
}
