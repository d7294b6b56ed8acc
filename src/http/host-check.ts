// The Host check (docs/operations.md, DNS rebinding): a web page whose name an attacker re-points at the
// relay's address is "same-origin" with it, so the Origin check cannot see it; its requests still
// carry the attacker's name in `Host`. The allowed Hosts are
//   - the loopback names `localhost`, `127.0.0.1`, `[::1]` (any port), always: no page can make a
//     browser send them for a foreign name;
//   - every entry of server.allowed_hosts: `name` (any port) or `name:port`; `*` turns the check off.
// With allowed_hosts empty, a relay listening on a non-loopback address checks nothing (it answers
// whatever names a load balancer or a Kubernetes Service gives it; auth is required there), one on
// loopback only the loopback names. A request without a Host header is refused when checking.
// PURE: no I/O.

import { isLoopbackHost } from '../config/security.js';

const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'] as const;

interface Entry {
  /** Lower-case host name; IPv6 literals in brackets. */
  name: string;
  /** The port as written, or undefined for any port. */
  port: string | undefined;
}

export class HostPolicy {
  /** False when every Host is allowed. */
  readonly checking: boolean;
  readonly #entries: Entry[] = [];
  /** Entries that could not be read (reported by the relay at start). */
  readonly invalid: string[] = [];

  constructor(allowedHosts: readonly string[], listenHost: string) {
    this.checking =
      !allowedHosts.includes('*') && (allowedHosts.length > 0 || isLoopbackHost(listenHost));
    for (const name of LOOPBACK_NAMES) this.#entries.push({ name, port: undefined });
    for (const raw of allowedHosts) {
      if (raw === '*') continue;
      const entry = parseHost(raw.trim());
      if (entry === undefined) this.invalid.push(raw);
      else this.#entries.push(entry);
    }
  }

  /** True when a request with this Host header may be served. */
  allows(hostHeader: string | undefined): boolean {
    if (!this.checking) return true;
    if (hostHeader === undefined) return false;
    const host = parseHost(hostHeader);
    if (host === undefined) return false;
    return this.#entries.some(
      (e) => e.name === host.name && (e.port === undefined || e.port === host.port),
    );
  }
}

/** `name`, `name:port`, `[v6]`, `[v6]:port` → its parts; undefined when it is none of these. */
export function parseHost(value: string): Entry | undefined {
  const m = /^(\[[0-9a-f:.]+\]|[a-z0-9_.-]+)(?::(\d{1,5}))?$/i.exec(value);
  if (m === null) return undefined;
  const name = m[1]!.toLowerCase().replace(/\.$/, '');
  return { name, port: m[2] };
}
