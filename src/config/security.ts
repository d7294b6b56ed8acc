// Checks across several server keys that no single key's format can make (docs/operations.md): protected mode
// (a non-loopback listener needs auth unless allow_unauthenticated says otherwise), no "*" Origin
// with Basic auth, the header timeout within the request timeout. Used by the config loader (so
// `mcpmux --check` reports them) and by the relay itself for configs built in code. PURE.

import type { ServerConfig } from './types.js';

export interface ServerProblem {
  readonly path: string;
  readonly message: string;
}

type ServerKeys = Pick<
  ServerConfig,
  | 'host'
  | 'auth_token'
  | 'auth_user'
  | 'auth_password'
  | 'allowed_origins'
  | 'allow_unauthenticated'
  | 'headers_timeout'
  | 'body_timeout'
>;

/** True for the names and addresses of the loopback interface: 127.0.0.0/8, ::1, localhost. */
export function isLoopbackHost(host: string): boolean {
  const h = host
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, '$1');
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (h === '::1' || h === '0:0:0:0:0:0:0:1') return true;
  const v4 = h.startsWith('::ffff:') ? h.slice(7) : h;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/** True when some credential is configured (the Authenticator then refuses anonymous clients). */
export function authConfigured(server: Partial<ServerKeys>): boolean {
  const set = (v: unknown) => typeof v === 'string' && v !== '';
  return set(server.auth_token) || (set(server.auth_user) && set(server.auth_password));
}

/** What is wrong across keys; [] when nothing. Tolerates values of the wrong type (reported elsewhere). */
export function serverProblems(server: Partial<ServerKeys>): ServerProblem[] {
  const problems: ServerProblem[] = [];
  const { host, allowed_origins: origins } = server;
  const basic =
    (typeof server.auth_user === 'string' && server.auth_user !== '') ||
    (typeof server.auth_password === 'string' && server.auth_password !== '');
  if (Array.isArray(origins) && origins.includes('*') && basic) {
    problems.push({
      path: 'server.allowed_origins',
      message:
        'server.allowed_origins must not contain "*" while Basic auth (server.auth_user / server.auth_password) is set: ' +
        "any web site could call the relay with a browser's cached credentials; list the origins instead",
    });
  }
  if (
    typeof host === 'string' &&
    host !== '' &&
    !isLoopbackHost(host) &&
    !authConfigured(server) &&
    server.allow_unauthenticated !== true
  ) {
    problems.push({
      path: 'server.host',
      message:
        `server.host ${JSON.stringify(host)} is not a loopback address and no auth is configured ` +
        '(server.auth_token, or server.auth_user + server.auth_password): refusing to serve anyone on the network ' +
        '(protected mode). Set credentials, listen on 127.0.0.1, or set server.allow_unauthenticated: true to do this on purpose',
    });
  }
  const { headers_timeout: headers, body_timeout: body } = server;
  if (typeof headers === 'number' && typeof body === 'number' && headers > body) {
    problems.push({
      path: 'server.headers_timeout',
      message: `server.headers_timeout (${headers}) must not be larger than server.body_timeout (${body})`,
    });
  }
  return problems;
}
