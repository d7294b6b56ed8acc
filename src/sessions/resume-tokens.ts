// Resume tokens (docs/protocol.md, "Resume"): the only thing that re-attaches a detached session,
// and a Streamable HTTP session's Mcp-Session-Id (looked up on every request of that session).
// A token is `<node_id>.<secret>`: the relay's server.node_id (so a load balancer can route a
// resume to the relay holding the session: the node id is everything before the last '.') and
// 32 random bytes in base64url (256 bits). It is given only to the opener (the `opened` envelope,
// the Mcpmux-Resume-Token header, the Mcp-Session-Id header), never listed or logged.
//
// Sessions are found in a Map keyed by the token itself: O(1) per lookup, no hash of our own. Why
// that leaks nothing a timing attack could use: V8 finds a string key by the string's hash, which
// covers the whole string and is seeded at random per process, and compares contents only with
// a key whose 32-bit hash is equal. So the time a lookup takes does not depend on how many leading
// characters a guess shares with a stored token (no prefix-by-prefix search, which is what a
// constant-time comparison prevents), and a guess is a blind draw of 256 bits. (The lookup used to
// be by the token's SHA-256 plus timingSafeEqual: a hash per HTTP request, for no gain.)

import { randomBytes } from 'node:crypto';

const SECRET_BYTES = 32;

export class ResumeTokens<S> {
  readonly #nodeId: string;
  readonly #byToken = new Map<string, S>();
  readonly #tokens = new Map<S, string>();

  constructor(nodeId: string) {
    this.#nodeId = nodeId;
  }

  /** A new token for `holder`. */
  issue(holder: S): string {
    const token = `${this.#nodeId}.${randomBytes(SECRET_BYTES).toString('base64url')}`;
    this.#byToken.set(token, holder);
    this.#tokens.set(holder, token);
    return token;
  }

  /** The token `holder` was given, if it has one. */
  tokenOf(holder: S): string | undefined {
    return this.#tokens.get(holder);
  }

  /** The holder of `token`, or undefined. */
  find(token: string): S | undefined {
    return this.#byToken.get(token);
  }

  /** `holder` is gone: its token resumes nothing any more. */
  forget(holder: S): void {
    const token = this.#tokens.get(holder);
    if (token === undefined) return;
    this.#tokens.delete(holder);
    this.#byToken.delete(token);
  }

  get size(): number {
    return this.#tokens.size;
  }
}
