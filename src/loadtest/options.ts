// `mcpmux loadtest` arguments → a validated load description. PURE apart from reading argv given
// to it: no I/O, no clock. A usage problem is a UsageError (the command exits 2).

import { parseArgs } from 'node:util';
import type { LoadSpec, Target } from './engine.js';

export const LOADTEST_USAGE = `Usage: mcpmux loadtest --url URL --service NAME [options]

Drives one service through a running relay with pipelined requests and reports throughput,
latency percentiles (p50/p90/p99/p99.9/max) and errors by reason.

Target:
      --url URL            the relay's base URL (http, https, ws or wss); for --mode raw the
                           full WebSocket URL of any MCP-over-WebSocket endpoint; for --mode
                           http without --service the full URL of any Streamable HTTP endpoint
      --service NAME       the service to drive (modes mcp and ws; http: --url + /mcp/NAME)
      --mode MODE          mcp: one /mcp/{service} socket per connection (default)
                           ws: /ws sockets carrying --channels channels each
                           raw: plain JSON-RPC frames to --url (e.g. supergateway)
                           http: Streamable HTTP, one MCP session per connection, one POST
                           per message (JSON or SSE answers), DELETE at the end
                           stdio: spawn --command and pipe JSON-RPC lines (no relay)
      --command CMD        stdio mode: the server command (JSON array or space-separated)
      --token TOKEN        send "Authorization: Bearer TOKEN" (relay auth_token)
Load:
      --connections N      WebSocket connections, or HTTP sessions (default 1)
      --channels N         channels per /ws connection (default 1; other modes: 1)
      --in-flight N        requests kept outstanding per channel (default 1)
      --duration S         seconds to measure (default 10 unless --requests is given)
      --requests N         stop after N measured requests (with --duration: whichever first)
      --warmup S           seconds of unmeasured load first (default 0)
      --tool NAME          call tools/call NAME ...
      --args JSON          ... with these arguments (default {})
      --method M           or send JSON-RPC method M (default: ping when --tool is absent)
      --params JSON        ... with these params
      --write-per-message  one write() per message, like a naive client (default: the
                           messages of one event-loop turn leave in one write, still one
                           frame or line each)
Limits and output:
      --timeout MS         a request with no answer after MS counts as "timeout" (default 30000)
      --connect-timeout MS connect, open and initialize every channel within MS (default 10000)
      --max-error-rate F   exit 1 when errors/requests > F, 0..1 (default 0: any error)
      --json               print the result as one JSON object
      --quiet              no live progress line
  -h, --help               this text

Exit status: 0 ok; 1 a connection failed or errors passed --max-error-rate; 2 usage error.
`;

export class UsageError extends Error {
  override name = 'UsageError';
}

export interface LoadtestOptions {
  spec: LoadSpec;
  json: boolean;
  quiet: boolean;
  maxErrorRate: number;
}

const MODES = ['mcp', 'ws', 'raw', 'http', 'stdio'] as const;

function int(name: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > max) {
    throw new UsageError(
      `--${name} must be an integer from 1 to ${max}, not ${JSON.stringify(text)}`,
    );
  }
  return n;
}

function seconds(name: string, text: string | undefined, min: number): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isFinite(n) || n < min || n > 86_400) {
    throw new UsageError(`--${name} must be a number of seconds from ${min} to 86400`);
  }
  return n;
}

function json(name: string, text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new UsageError(`--${name} is not JSON: ${(err as Error).message}`);
  }
}

/** `http(s)://host[:port][/prefix]` → the http(s) URL of `path` under it (mode http). */
export function httpEndpointUrl(base: string, path: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`--url ${JSON.stringify(base)} is not a URL`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new UsageError('--mode http needs an http or https --url');
  }
  const prefix = url.pathname.replace(/\/+$/, '');
  return `${url.protocol}//${url.host}${path === '' ? url.pathname : prefix + path}${url.search}`;
}

/** `http(s)://host[:port][/prefix]` or `ws(s)://…` → the WebSocket URL of `path` under it. */
export function endpointUrl(base: string, path: string): string {
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new UsageError(`--url ${JSON.stringify(base)} is not a URL`);
  }
  const scheme = { 'http:': 'ws:', 'https:': 'wss:', 'ws:': 'ws:', 'wss:': 'wss:' }[url.protocol];
  if (scheme === undefined) throw new UsageError('--url must be http, https, ws or wss');
  const prefix = url.pathname.replace(/\/+$/, '');
  return `${scheme}//${url.host}${prefix}${path}${url.search}`;
}

function target(
  v: { url?: string | undefined; service?: string | undefined; command?: string | undefined },
  mode: (typeof MODES)[number],
): Target {
  if (mode === 'stdio') {
    const text = v.command?.trim();
    if (text === undefined || text === '') throw new UsageError('--mode stdio needs --command');
    const command = text.startsWith('[') ? json('command', text) : text.split(/\s+/);
    if (
      !Array.isArray(command) ||
      command.length === 0 ||
      !command.every((c) => typeof c === 'string')
    ) {
      throw new UsageError('--command must be a non-empty JSON array of strings');
    }
    return { mode, command };
  }
  if (v.url === undefined) throw new UsageError(`--mode ${mode} needs --url`);
  if (mode === 'raw') return { mode, url: endpointUrl(v.url, '') };
  if (mode === 'http') {
    const path = v.service === undefined ? '' : `/mcp/${encodeURIComponent(v.service)}`;
    if (v.service === '') throw new UsageError('--service must not be empty');
    return { mode, url: httpEndpointUrl(v.url, path) };
  }
  const service = v.service;
  if (service === undefined || service === '')
    throw new UsageError(`--mode ${mode} needs --service`);
  if (mode === 'ws') return { mode, url: endpointUrl(v.url, '/ws'), service };
  return { mode, url: endpointUrl(v.url, `/mcp/${encodeURIComponent(service)}`) };
}

/** Parses the arguments after `loadtest` (`'help'` for -h); throws UsageError. */
export function parseLoadtestArgs(argv: string[]): LoadtestOptions | 'help' {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      strict: true,
      allowPositionals: false,
      options: {
        url: { type: 'string' },
        service: { type: 'string' },
        mode: { type: 'string' },
        command: { type: 'string' },
        token: { type: 'string' },
        connections: { type: 'string' },
        channels: { type: 'string' },
        'in-flight': { type: 'string' },
        duration: { type: 'string' },
        requests: { type: 'string' },
        warmup: { type: 'string' },
        tool: { type: 'string' },
        args: { type: 'string' },
        method: { type: 'string' },
        params: { type: 'string' },
        timeout: { type: 'string' },
        'connect-timeout': { type: 'string' },
        'max-error-rate': { type: 'string' },
        'write-per-message': { type: 'boolean' },
        json: { type: 'boolean' },
        quiet: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const v = parsed.values;
  if (v.help === true) return 'help';

  const mode = (v.mode ?? 'mcp') as (typeof MODES)[number];
  if (!MODES.includes(mode)) throw new UsageError(`--mode must be one of ${MODES.join(', ')}`);
  const channels = int('channels', v.channels, 1, 1024);
  if (channels > 1 && mode !== 'ws') throw new UsageError('--channels needs --mode ws');
  if (mode === 'http' && v['write-per-message'] === true) {
    throw new UsageError(
      '--write-per-message does not apply to --mode http (one POST per message)',
    );
  }

  if (v.tool !== undefined && (v.method !== undefined || v.params !== undefined)) {
    throw new UsageError('give --tool (with --args) or --method (with --params), not both');
  }
  if (v.args !== undefined && v.tool === undefined) throw new UsageError('--args needs --tool');
  const args = json('args', v.args) ?? {};
  if (typeof args !== 'object' || args === null || Array.isArray(args)) {
    throw new UsageError('--args must be a JSON object');
  }
  const method = v.tool !== undefined ? 'tools/call' : (v.method ?? 'ping');
  const params =
    v.tool !== undefined ? { name: v.tool, arguments: args } : json('params', v.params);

  const requests = v.requests === undefined ? undefined : int('requests', v.requests, 1, 1e12);
  const duration =
    seconds('duration', v.duration, 0.01) ?? (requests === undefined ? 10 : undefined);
  const maxErrorRate = v['max-error-rate'] === undefined ? 0 : Number(v['max-error-rate']);
  if (!(maxErrorRate >= 0 && maxErrorRate <= 1)) {
    throw new UsageError('--max-error-rate must be a number from 0 to 1');
  }
  const spec: LoadSpec = {
    target: target(v, mode),
    connections: int('connections', v.connections, 1, 10_000),
    channels,
    inFlight: int('in-flight', v['in-flight'], 1, 100_000),
    warmupMs: (seconds('warmup', v.warmup, 0) ?? 0) * 1000,
    method,
    params,
    timeoutMs: int('timeout', v.timeout, 30_000, 3_600_000),
    connectTimeoutMs: int('connect-timeout', v['connect-timeout'], 10_000, 3_600_000),
    headers: v.token === undefined ? {} : { authorization: `Bearer ${v.token}` },
    writePerMessage: v['write-per-message'] === true,
    ...(duration !== undefined && { durationMs: duration * 1000 }),
    ...(requests !== undefined && { requests }),
  };
  return { spec, json: v.json === true, quiet: v.quiet === true, maxErrorRate };
}
