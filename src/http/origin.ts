// The browser Origin check (docs/operations.md). A request without an Origin header (curl, SDKs, agents) is
// not affected. One with an Origin is allowed when it is the same origin as the relay (the Origin's
// host and port equal the Host header's) or matches an entry of server.allowed_origins:
//   "https://app.example.com"   exactly that origin (default ports may be written or not)
//   "http://localhost:*"        that scheme and host, any port
//   "https://*.example.com"     any subdomain of example.com (not example.com itself), that scheme
//   "*"                         any origin (only behind auth; think twice)
// PURE: no I/O.

interface Pattern {
  /** "http:" etc., or undefined for "*". */
  protocol: string | undefined;
  /** Lower-case host name, or a ".suffix" for a subdomain wildcard. */
  host: string;
  /** A port number as a string, '' for the scheme's default, '*' for any. */
  port: string;
}

export class OriginPolicy {
  readonly #any: boolean;
  readonly #patterns: Pattern[] = [];
  /** Entries that could not be read (reported by the relay at start). */
  readonly invalid: string[] = [];

  constructor(allowed: readonly string[]) {
    this.#any = allowed.includes('*');
    for (const entry of allowed) {
      if (entry === '*') continue;
      const pattern = parsePattern(entry);
      if (pattern === undefined) this.invalid.push(entry);
      else this.#patterns.push(pattern);
    }
  }

  /** True when the origin may be served; `hostHeader` is the request's Host. */
  allows(origin: string | undefined, hostHeader: string | undefined): boolean {
    if (origin === undefined) return true;
    if (this.#any) return true;
    const url = parseOrigin(origin);
    if (url === undefined) return false; // "null" (sandboxed frames, file://) and garbage
    if (hostHeader !== undefined && sameHost(url, hostHeader)) return true;
    return this.#patterns.some((p) => matches(p, url));
  }

  /** True when the origin is listed in allowed_origins (same-origin needs no CORS headers). */
  listed(origin: string): boolean {
    if (this.#any) return true;
    const url = parseOrigin(origin);
    return url !== undefined && this.#patterns.some((p) => matches(p, url));
  }
}

function parseOrigin(origin: string): URL | undefined {
  if (!URL.canParse(origin)) return undefined;
  const url = new URL(origin);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return undefined;
  return url;
}

function parsePattern(entry: string): Pattern | undefined {
  const m = /^(https?):\/\/(\*\.)?([^/:*]+)(?::(\d+|\*))?\/?$/i.exec(entry.trim());
  if (m === null) return undefined;
  const protocol = `${m[1]!.toLowerCase()}:`;
  const host = m[3]!.toLowerCase();
  let port = m[4] ?? '';
  if ((protocol === 'http:' && port === '80') || (protocol === 'https:' && port === '443'))
    port = '';
  return { protocol, host: m[2] !== undefined ? `.${host}` : host, port };
}

function matches(p: Pattern, url: URL): boolean {
  if (url.protocol !== p.protocol) return false;
  const host = url.hostname.toLowerCase();
  if (p.host.startsWith('.') ? !host.endsWith(p.host) : host !== p.host) return false;
  return p.port === '*' || p.port === url.port;
}

/** Origin host:port equals the Host header's, default ports normalised by the Origin's scheme. */
function sameHost(url: URL, hostHeader: string): boolean {
  const candidate = `${url.protocol}//${hostHeader}`;
  if (!URL.canParse(candidate)) return false;
  return new URL(candidate).host === url.host;
}
