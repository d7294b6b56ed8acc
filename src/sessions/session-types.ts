// The shapes around a Session: what it needs of its server (Upstream, the seam unit tests fake),
// of its channel (SessionSink), and its state and stats.

import type { MCPClient } from '../mcp/mcp-client.js';
import type { Reason } from '../errors.js';
import type { Classified } from '../jsonrpc/types.js';

/** Outstanding server→client requests tracked per session (more are forwarded, not tracked). */
export const MAX_SERVER_REQUESTS = 256;

/**
 * What a Session needs of its server: an MCPClient, or a fake (an EventEmitter with these
 * methods) in unit tests. The session's own logic never touches a process.
 */
export type Upstream = Pick<
  MCPClient,
  | 'sessionId'
  | 'service'
  | 'on'
  | 'once'
  | 'sendRaw'
  | 'drain'
  | 'stop'
  | 'pauseOutput'
  | 'resumeOutput'
  | 'nextRequestId'
  | 'respond'
  | 'pid'
  | 'stdinBufferedBytes'
>;

export interface SessionSink {
  /**
   * True when no MCP client is behind this sink (a REST session): the session answers the
   * server's requests itself at once (ping → {}, anything else no_client) instead of sending them.
   */
  readonly noClient?: boolean;
  /**
   * One JSON-RPC message (a single line of JSON) for the client. `decoded` is the line as the
   * server's codec parsed it, when the message came from the server now (not from the relay, not
   * from the resume buffer): a sink that routes by kind or id reads it instead of parsing again.
   */
  send(line: string, decoded?: Classified): void;
  /** The session ended; the sink closes its channel with this reason. */
  closed(reason: Reason, message: string): void;
  /**
   * The server's stdin is full: stop reading the client until `drained` resolves, so the relay
   * never buffers what a server does not read.
   */
  inputCongested?(drained: Promise<void>): void;
}

export type SessionState = 'attached' | 'detached' | 'closing' | 'closed';

/**
 * How the session was opened, as GET /sessions lists it: `websocket` (/mcp/{service} upgrade, /ws),
 * `http` (Streamable HTTP POST /mcp/{service}), `rest` (the REST API, SignalWire's routes).
 */
export type SessionTransport = 'websocket' | 'http' | 'rest';

export interface SessionStats {
  state: SessionState;
  inflight: number;
  createdAt: number;
  lastActivity: number;
}
