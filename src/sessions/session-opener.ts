// The one way a channel's session is opened, whatever the endpoint: a new session of a service,
// or the detached one a resume token names (docs/protocol.md, "Sessions"). /mcp/{service} opens
// before its upgrade completes (the 101 carries the session id and resume token); /ws opens on an
// `open` envelope (Channel.open). Both come here and get the same typed result.

import { McpmuxError } from '../errors.js';
import type { Session, SessionTransport } from './session.js';
import type { SessionRegistry } from './session-registry.js';

/** A session to bind to a channel (`resumed`: it existed and was detached), or why there is none. */
export type OpenedSession =
  { ok: true; session: Session; resumed: boolean } | { ok: false; error: McpmuxError };

/**
 * Creates a session of `service` (opened by `transport`, `websocket` unless told), or finds the
 * one to resume with `resumeToken`; never throws.
 */
export async function openSession(
  registry: SessionRegistry,
  service: string,
  resumeToken?: string,
  transport?: SessionTransport,
): Promise<OpenedSession> {
  try {
    if (resumeToken !== undefined) {
      return { ok: true, session: registry.resumable(resumeToken, service), resumed: true };
    }
    const session = await registry.create(service, transport === undefined ? {} : { transport });
    return { ok: true, session, resumed: false };
  } catch (err) {
    const error = err instanceof McpmuxError ? err : new McpmuxError('internal_error', String(err));
    return { ok: false, error };
  }
}

/**
 * The opened session will not be bound (its client went away first): a session created for it is
 * stopped; a resumable one is left as it was, waiting for its resume.
 */
export function abandonOpened(opened: OpenedSession): void {
  if (opened.ok && !opened.resumed) void opened.session.close('session_closed');
}
