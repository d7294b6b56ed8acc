// /mcp/{service}: one WebSocket = one channel = one session; frames are plain JSON-RPC.
// The session is created (or found for ?resume=<resume token>) before the upgrade completes, so its
// id and its secret resume token can be sent in the `Mcpmux-Session` and `Mcpmux-Resume-Token`
// response headers. A deliberate close by the client stops the
// session; a dropped connection keeps it for resume_window (isDeliberateClose).

import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { McpmuxError, closeCodeFor, errorResponse, isReason, type Reason } from '../errors.js';
import type { Logger } from '../log.js';
import { Channel } from '../channel/channel.js';
import type { RequestAdmission } from '../http/access.js';
import { decodeMessage } from '../jsonrpc/codec.js';
import type { Classified, Invalid } from '../jsonrpc/types.js';
import { DETACH_CLOSE_CODE, type ResumeReplay } from '../channel/envelope.js';
import { Outflow, inputPauser } from '../channel/outflow.js';
import type { OpenedSession } from '../sessions/session-opener.js';
import type { SessionRegistry } from '../sessions/session-registry.js';

export interface ConnectionContext {
  registry: SessionRegistry;
  maxBufferedBytes: number;
  logger: Logger;
  /** The access layer's per-client rate limit, asked before each request (admitAndDeliver). */
  admit?: RequestAdmission | undefined;
}

/**
 * True when the client closed on purpose (a close frame with 1000, no status, or its own code):
 * its sessions stop. A dropped connection (1006, no close frame) or a page going away (1001)
 * or a client closing with 4100 (detach) leaves them waiting resume_window for a resume.
 */
export function isDeliberateClose(code: number): boolean {
  return code !== 1006 && code !== 1001 && code !== DETACH_CLOSE_CODE;
}

export { DETACH_CLOSE_CODE };

/** WebSocket close reasons are limited to 123 bytes. */
export function closeReasonText(text: string): string {
  return Buffer.byteLength(text) <= 123
    ? text
    : Buffer.from(text).subarray(0, 120).toString() + '…';
}

export function reasonOf(err: unknown): Reason {
  if (err instanceof McpmuxError) return err.reason;
  const reason = (err as { reason?: unknown } | undefined)?.reason;
  return isReason(reason) ? reason : 'internal_error';
}

/**
 * A WebSocket 'message' listener that cannot throw onto the event loop: a fault while handling a
 * client's frame closes that connection alone (1011) and is logged.
 */
export function guarded(
  ws: WebSocket,
  logger: Logger,
  listener: (data: Buffer, isBinary: boolean) => void,
): (data: Buffer, isBinary: boolean) => void {
  return (data, isBinary) => {
    try {
      listener(data, isBinary);
    } catch (err) {
      logger.error({ err }, 'a client frame could not be processed');
      ws.close(1011, 'internal error');
    }
  };
}

/**
 * Hands one client message to its channel, unless it is a request the access layer refuses
 * (the rate limit, src/http/access.ts): that one is answered here and never reaches the channel.
 */
export function admitAndDeliver(
  channel: Channel,
  decoded: Classified | Invalid,
  text: string,
  admit: RequestAdmission | undefined,
): void {
  if (decoded.kind === 'request' && admit !== undefined) {
    const refused = admit();
    if (refused !== undefined) {
      channel.send(errorResponse(decoded.message.id, refused));
      return;
    }
  }
  channel.receive(decoded, text);
}

export function serveDirect(
  ws: WebSocket,
  socket: Socket,
  ctx: ConnectionContext,
  service: string,
  prepared: OpenedSession,
  replay?: ResumeReplay,
): void {
  const close = (reason: Reason, message: string) => {
    if (ws.readyState === ws.OPEN || ws.readyState === ws.CONNECTING) {
      ws.close(closeCodeFor(reason), closeReasonText(`${reason}: ${message}`));
    }
  };
  if (!prepared.ok) {
    close(prepared.error.reason, prepared.error.message);
    return;
  }
  const outflow = new Outflow(ws, socket, ctx.maxBufferedBytes);
  const channel: Channel = new Channel(ctx.registry, service, {
    send: (line) => {
      if (!outflow.send(line)) void channel.close('slow_consumer');
    },
    opened: (session) => outflow.add(session),
    closed: (reason, message) => close(reason, message),
    pauseInput: inputPauser(ws),
  });
  const onMessage = (data: Buffer, isBinary: boolean) => {
    if (isBinary) {
      ws.close(1003, 'binary frames are not accepted');
      return;
    }
    const text = data.toString('utf8');
    admitAndDeliver(channel, decodeMessage(text), text, ctx.admit);
  };
  ws.on('message', guarded(ws, ctx.logger, onMessage));
  ws.once('close', (code: number) => {
    outflow.close();
    if (isDeliberateClose(code)) void channel.close('session_closed');
    else channel.detach();
  });
  ws.on('error', (err) => ctx.logger.debug({ err: err.message }, 'websocket error'));
  try {
    channel.bind(prepared.session, prepared.resumed, replay);
  } catch (err) {
    close(reasonOf(err), (err as Error).message); // resumed by someone else meanwhile
  }
}
