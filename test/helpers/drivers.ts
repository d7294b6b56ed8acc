// One channel, driven the same way over either endpoint, so the relay-semantics suite is written
// once and run against /mcp/{service} and /ws.

import type { ResumeReplay } from '../../src/channel/envelope.js';
import { REASONS, type Reason } from '../../src/errors.js';
import { WsCursor, type TestRelay } from './relay.js';

export type Mode = 'direct' | 'mux';

export interface ChannelDriver {
  mode: Mode;
  sessionId: string;
  /** The secret resume token the relay gave this channel's opener. */
  resumeToken: string;
  /** A JSON-RPC message (object) or a raw frame (string) to the server. */
  send(message: unknown): void;
  /** The next JSON-RPC message from the relay for this channel. */
  next(timeoutMs?: number): Promise<any>;
  /** Messages until one matches. */
  until(
    predicate: (m: any) => boolean,
    timeoutMs?: number,
  ): Promise<{ match: any; skipped: any[] }>;
  /** Resolves with the reason once the relay closes the channel. */
  closed(timeoutMs?: number): Promise<Reason | string>;
  /** Drops the socket abruptly (no close handshake): the session waits for a resume. */
  drop(): void;
  /** Closes the channel cleanly: the session stops. */
  close(): void;
  cursor: WsCursor;
}

const reasonByClose = new Map<number, Reason>(
  Object.entries(REASONS)
    .filter(([, info]) => info.closeCode !== null)
    .map(([reason, info]) => [info.closeCode!, reason as Reason]),
);

async function openDirect(
  relay: TestRelay,
  service: string,
  resume?: string,
  replay?: ResumeReplay,
): Promise<ChannelDriver> {
  const params = new URLSearchParams();
  if (resume !== undefined) params.set('resume', resume);
  if (replay !== undefined) params.set('replay', replay);
  const query = params.size === 0 ? '' : `?${params.toString()}`;
  const cursor = await WsCursor.connect(relay.ws(`/mcp/${service}${query}`), 'mcp');
  return {
    mode: 'direct',
    cursor,
    sessionId: cursor.headers['mcpmux-session'] ?? '',
    resumeToken: cursor.headers['mcpmux-resume-token'] ?? '',
    send: (m) => cursor.send(m),
    next: (t) => cursor.next(t),
    until: (p, t) => cursor.until(p, t),
    closed: async (t) => {
      const { code, reason } = await cursor.expectClose(t);
      return reasonByClose.get(code) ?? `${code} ${reason}`;
    },
    drop: () => cursor.ws.terminate(),
    close: () => cursor.close(),
  };
}

async function openMux(
  relay: TestRelay,
  service: string,
  resume?: string,
  replay?: ResumeReplay,
): Promise<ChannelDriver> {
  const cursor = await WsCursor.connect(relay.ws('/ws'), 'mcpmux.v1');
  cursor.send({
    type: 'open',
    channel: 'c1',
    service,
    ...(resume !== undefined && { resume }),
    ...(replay !== undefined && { replay }),
  });
  const opened = await cursor.next();
  if (opened.type !== 'opened') throw new Error(`open failed: ${JSON.stringify(opened)}`);
  const next = async (t?: number) => {
    const env = await cursor.next(t);
    if (env.type !== 'message')
      throw new Error(`expected a message envelope, got ${JSON.stringify(env)}`);
    return env.message;
  };
  return {
    mode: 'mux',
    cursor,
    sessionId: opened.session,
    resumeToken: opened.resume_token,
    send: (m) =>
      cursor.send(
        typeof m === 'string'
          ? `{"type":"message","channel":"c1","message":${m}}`
          : { type: 'message', channel: 'c1', message: m },
      ),
    next,
    until: async (p, t = 5000) => {
      const deadline = Date.now() + t;
      const skipped: any[] = [];
      for (;;) {
        const m = await next(Math.max(1, deadline - Date.now()));
        if (p(m)) return { match: m, skipped };
        skipped.push(m);
      }
    },
    closed: async (t = 5000) => {
      const { match } = await cursor.until((e) => e.type === 'closed', t);
      return match.reason;
    },
    drop: () => cursor.ws.terminate(),
    close: () => cursor.send({ type: 'close', channel: 'c1' }),
  };
}

/**
 * Opens a channel on `service`, or resumes the session whose resume token is `resume` (`replay`:
 * when its buffered output comes, docs/protocol.md "Resume"; the relay's default is `hold`).
 */
export function openChannel(
  mode: Mode,
  relay: TestRelay,
  service: string,
  resume?: string,
  replay?: ResumeReplay,
) {
  return mode === 'direct'
    ? openDirect(relay, service, resume, replay)
    : openMux(relay, service, resume, replay);
}
