// Resume tokens (docs/protocol.md, "Resume"): the only thing that re-attaches a detached session.
// A token is `<node_id>.<secret>`: the relay's server.node_id (so a load balancer can route a
// resume to the relay holding the session: the node id is everything before the last '.') and
// 32 random bytes in base64url (256 bits). It is given only to the opener (the `opened` envelope,
// the Mcpmux-Resume-Token header), never listed or logged. Sessions are found by the SHA-256 of
// the token, so a lookup's timing tells nothing about any stored token, and the match is then
// confirmed with a constant-time comparison.

import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

const SECRET_BYTES = 32;

function digest(token: string): Buffer {
  return createHash('sha256').update(token).digest();
}

export class ResumeTokens<S> {
  readonly #nodeId: string;
  /** By hex digest of the token: the holder and the digest itself, for the final comparison. */
  readonly #byDigest = new Map<string, { holder: S; digest: Buffer }>();
  readonly #tokens = new Map<S, string>();

  constructor(nodeId: string) {
    this.#nodeId = nodeId;
  }

  /** A new token for `holder`. */
  issue(holder: S): string {
    const token = `${this.#nodeId}.${randomBytes(SECRET_BYTES).toString('base64url')}`;
    const d = digest(token);
    this.#byDigest.set(d.toString('hex'), { holder, digest: d });
    this.#tokens.set(holder, token);
    return token;
  }

  /** The token `holder` was given, if it has one. */
  tokenOf(holder: S): string | undefined {
    return this.#tokens.get(holder);
  }

  /** The holder of `token`, or undefined. */
  find(token: string): S | undefined {
    const d = digest(token);
    const entry = this.#byDigest.get(d.toString('hex'));
    if (entry === undefined || !timingSafeEqual(entry.digest, d)) return undefined;
    return entry.holder;
  }

  /** `holder` is gone: its token resumes nothing any more. */
  forget(holder: S): void {
    const token = this.#tokens.get(holder);
    if (token === undefined) return;
    this.#tokens.delete(holder);
    this.#byDigest.delete(digest(token).toString('hex'));
  }

  get size(): number {
    return this.#tokens.size;
  }
}
