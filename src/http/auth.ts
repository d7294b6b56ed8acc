// Credentials for every route but the health ones (docs/operations.md): `Authorization: Bearer <auth_token>`,
// `Authorization: Basic` with auth_user/auth_password, or (WebSocket upgrades only, for browsers,
// which cannot set headers on a WebSocket) `?access_token=<auth_token>` on the URL. Every
// comparison is of SHA-256 digests with timingSafeEqual, so neither the length nor the content of
// a secret leaks through timing. With no token and no user/password configured, auth is off.

import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { ServerConfig } from '../config/types.js';

export type AuthResult =
  | { ok: true; principal: 'anonymous' | 'token' | `user:${string}` }
  | { ok: false; why: 'missing' | 'wrong' | 'malformed' };

const digest = (value: string | Buffer): Buffer => createHash('sha256').update(value).digest();

/** Constant-time equality of two secrets of any lengths. */
export function secretEquals(given: string | Buffer, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

export class Authenticator {
  /** Digest of auth_token, when bearer auth is on. */
  readonly #token: Buffer | undefined;
  readonly #user: Buffer | undefined;
  readonly #password: Buffer | undefined;
  readonly #userName: string;
  /** The WWW-Authenticate value of a 401. */
  readonly challenge: string;

  constructor(server: Pick<ServerConfig, 'auth_token' | 'auth_user' | 'auth_password'>) {
    this.#token = server.auth_token !== '' ? digest(server.auth_token) : undefined;
    const basic = server.auth_user !== '' && server.auth_password !== '';
    this.#user = basic ? digest(server.auth_user) : undefined;
    this.#password = basic ? digest(server.auth_password) : undefined;
    this.#userName = server.auth_user;
    const challenges: string[] = [];
    if (this.#token !== undefined) challenges.push('Bearer realm="mcpmux"');
    if (basic) challenges.push('Basic realm="mcpmux", charset="UTF-8"');
    this.challenge = challenges.join(', ');
  }

  /** False when no credential is configured: every client is let in. */
  get enabled(): boolean {
    return this.#token !== undefined || this.#user !== undefined;
  }

  /**
   * Checks a request's credentials. `allowQueryToken`: accept `?access_token=` (WebSocket
   * upgrades). A wrong Authorization header is refused even if a query token would match.
   */
  check(req: IncomingMessage, url: URL, allowQueryToken: boolean): AuthResult {
    if (!this.enabled) return { ok: true, principal: 'anonymous' };
    const header = req.headers.authorization;
    if (header !== undefined) return this.#checkHeader(header);
    if (allowQueryToken) {
      const token = url.searchParams.get('access_token');
      if (token !== null) {
        return this.#token !== undefined && secretEquals(token, this.#token)
          ? { ok: true, principal: 'token' }
          : { ok: false, why: 'wrong' };
      }
    }
    return { ok: false, why: 'missing' };
  }

  #checkHeader(header: string): AuthResult {
    const space = header.indexOf(' ');
    const scheme = (space === -1 ? header : header.slice(0, space)).toLowerCase();
    const value = space === -1 ? '' : header.slice(space + 1).trim();
    if (scheme === 'bearer') {
      if (value === '') return { ok: false, why: 'malformed' };
      return this.#token !== undefined && secretEquals(value, this.#token)
        ? { ok: true, principal: 'token' }
        : { ok: false, why: 'wrong' };
    }
    if (scheme === 'basic') {
      const decoded = Buffer.from(value, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon === -1) return { ok: false, why: 'malformed' };
      if (this.#user === undefined || this.#password === undefined) {
        return { ok: false, why: 'wrong' };
      }
      // Both compared every time (no early exit on a wrong user name).
      const userOk = secretEquals(decoded.slice(0, colon), this.#user);
      const passwordOk = secretEquals(decoded.slice(colon + 1), this.#password);
      return userOk && passwordOk
        ? { ok: true, principal: `user:${this.#userName}` }
        : { ok: false, why: 'wrong' };
    }
    return { ok: false, why: 'malformed' };
  }
}
