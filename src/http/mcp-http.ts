// The header rules of the Streamable HTTP endpoint (docs/protocol.md, "Streamable HTTP"): which
// MCP revisions it serves, the MCP-Protocol-Version check, and what an Accept header asks for.
// PURE: no I/O.

import { McpmuxError } from '../errors.js';

/** The MCP revisions this endpoint serves, newest first. */
export const SUPPORTED_VERSIONS = ['2025-11-25', '2025-06-18', '2025-03-26'] as const;

/** The revision assumed when a request carries no MCP-Protocol-Version (the spec's rule). */
export const DEFAULT_VERSION = '2025-03-26';

/** The first revision whose SSE streams start with a priming event (an id and empty data). */
const PRIMING_SINCE = '2025-11-25';

/** The stateless revision the relay does not serve yet: named in its clients' error. */
export const STATELESS_VERSION = '2026-07-28';

/** Methods only a 2026-07-28 client sends (instead of initialize). */
const STATELESS_METHODS = new Set(['server/discover']);

function served(): string {
  return SUPPORTED_VERSIONS.join(', ');
}

/** The error for a revision the relay does not serve (2026-07-28 included). */
export function unsupportedVersion(requested: string): McpmuxError {
  const stateless = requested === STATELESS_VERSION;
  const message = stateless
    ? `MCP ${STATELESS_VERSION} (stateless, no initialize) is not served yet; this relay serves ` +
      `MCP ${served()}: start with initialize`
    : `MCP-Protocol-Version ${requested} is not served; this relay serves MCP ${served()}`;
  return new McpmuxError('unsupported_version', message, {
    supported: [...SUPPORTED_VERSIONS],
    requested,
  });
}

/**
 * The revision a request speaks: its MCP-Protocol-Version header (the spec's default when absent),
 * or the error for one the relay does not serve.
 */
export function requestVersion(header: string | string[] | undefined): string | McpmuxError {
  if (Array.isArray(header)) header = header[0];
  if (header === undefined || header.trim() === '') return DEFAULT_VERSION;
  const version = header.trim();
  if ((SUPPORTED_VERSIONS as readonly string[]).includes(version)) return version;
  return unsupportedVersion(version);
}

/** A request method of the stateless revision: the error that names the revisions served. */
export function statelessMethodError(method: string): McpmuxError | undefined {
  if (!STATELESS_METHODS.has(method)) return undefined;
  const err = unsupportedVersion(STATELESS_VERSION);
  err.data.method = method;
  return err;
}

/** The error for a request other than initialize without Mcp-Session-Id. */
export function missingSessionId(): McpmuxError {
  return new McpmuxError(
    'missing_session_id',
    'Mcp-Session-Id header required: send initialize first (without it) and echo the id its ' +
      `answer carries; this relay serves MCP ${served()}`,
    { supported: [...SUPPORTED_VERSIONS] },
  );
}

/** True when SSE streams of this revision begin with a priming event. */
export function primes(version: string): boolean {
  return version >= PRIMING_SINCE;
}

/** The media types an Accept header lists (lower case, parameters and q=0 entries dropped). */
function accepted(accept: string | undefined): Set<string> {
  const types = new Set<string>();
  for (const part of (accept ?? '').split(',')) {
    const [type, ...params] = part.split(';').map((s) => s.trim().toLowerCase());
    if (type === undefined || type === '') continue;
    if (params.some((p) => /^q=0(\.0*)?$/.test(p))) continue;
    types.add(type);
  }
  return types;
}

/**
 * How a POST carrying a request is answered: `sse` when Accept lists text/event-stream (progress
 * and the server's questions can then stream), else `json` when it lists application/json, a
 * wildcard, or nothing at all; `undefined` when it allows neither (406).
 */
export function answerFormat(accept: string | undefined): 'sse' | 'json' | undefined {
  const types = accepted(accept);
  if (types.has('text/event-stream')) return 'sse';
  if (accept === undefined || types.size === 0) return 'json';
  if (types.has('application/json') || types.has('application/*') || types.has('*/*')) {
    return 'json';
  }
  return undefined;
}

/** True when a GET may be answered with an event stream (Accept absent, SSE, or a wildcard). */
export function acceptsEventStream(accept: string | undefined): boolean {
  const types = accepted(accept);
  if (accept === undefined || types.size === 0) return true;
  return types.has('text/event-stream') || types.has('text/*') || types.has('*/*');
}
