// /ws (subprotocol mcpmux.v1): many channels, any mix of services, on one WebSocket. Every frame
// is an envelope. A bad envelope gets an `error` envelope; only a client that keeps sending
// garbage (MAX_BAD_ENVELOPES in a row), or that does not read the answers to what it sends
// (past max_buffered_bytes), is disconnected. A `close` envelope or a deliberate close
// of the socket stops sessions; a dropped socket detaches every channel (they wait resume_window).

import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import type { Reason } from '../errors.js';
import { Channel } from '../channel/channel.js';
import {
  closedEnvelope,
  errorEnvelope,
  isEnvelopeError,
  messagePrefix,
  openedEnvelope,
  parseEnvelope,
  type ClientEnvelope,
} from '../channel/envelope.js';
import { Outflow, inputPauser } from '../channel/outflow.js';
import { classify } from '../jsonrpc/codec.js';
import {
  admitAndDeliver,
  guarded,
  isDeliberateClose,
  reasonOf,
  type ConnectionContext,
} from './ws-direct.js';

const MAX_BAD_ENVELOPES = 100;

export interface MuxContext extends ConnectionContext {
  maxChannels: number;
  /** Throws unknown_service / service_disabled for a service that cannot be opened. */
  checkService: (service: string) => void;
}

export function serveMux(ws: WebSocket, socket: Socket, ctx: MuxContext): void {
  const outflow = new Outflow(ws, socket, ctx.maxBufferedBytes);
  const channels = new Map<string, Channel>();
  const pauseInput = inputPauser(ws);
  let badInARow = 0;
  let shed = false;

  // The relay's error envelopes count against max_buffered_bytes too: a client that keeps sending
  // but never reads the answers is dropped (not detached: its sessions stop with slow_consumer).
  const send = (data: string) => {
    if (outflow.send(data) || shed) return true;
    shed = true;
    ctx.logger.info({ buffered: outflow.bufferedAmount }, 'mux client not reading: dropped');
    ws.terminate();
    return false;
  };

  const open = (env: Extract<ClientEnvelope, { type: 'open' }>) => {
    const name = env.channel;
    if (channels.has(name)) {
      return send(errorEnvelope('channel_exists', `channel ${name} is already open`, name));
    }
    if (channels.size >= ctx.maxChannels) {
      return send(
        errorEnvelope('channel_limit', `at most ${ctx.maxChannels} channels per connection`, name),
      );
    }
    try {
      ctx.checkService(env.service);
    } catch (err) {
      return send(errorEnvelope(reasonOf(err), (err as Error).message, name));
    }
    const prefix = messagePrefix(name);
    const channel: Channel = new Channel(ctx.registry, env.service, {
      send: (line) => {
        if (!outflow.send(prefix + line + '}')) void channel.close('slow_consumer');
      },
      opened: (session, resumed) => {
        outflow.add(session);
        const token = ctx.registry.resumeToken(session);
        outflow.send(openedEnvelope(name, session.id, resumed, token));
      },
      pauseInput,
      closed: (reason: Reason, message: string) => {
        if (channels.get(name) === channel) channels.delete(name);
        if (channel.session !== undefined) outflow.delete(channel.session);
        outflow.send(closedEnvelope(name, reason, message)); // one per channel: bounded
      },
      maxHeldBytes: ctx.maxBufferedBytes,
    });
    channels.set(name, channel);
    channel.open(env.resume, env.replay).then(
      (session) => ctx.logger.debug({ channel: name, session: session.id }, 'mux channel open'),
      (err: unknown) => {
        if (channels.get(name) === channel) channels.delete(name);
        send(errorEnvelope(reasonOf(err), (err as Error).message, name));
      },
    );
    return true;
  };

  const onEnvelope = (env: ClientEnvelope) => {
    if (env.type === 'open') return open(env);
    const channel = channels.get(env.channel);
    if (channel === undefined) {
      return send(
        errorEnvelope('unknown_channel', `channel ${env.channel} is not open`, env.channel),
      );
    }
    if (env.type === 'message') {
      admitAndDeliver(channel, classify(env.message), env.text, ctx.admit);
    } else void channel.close('session_closed');
    return true;
  };

  const onMessage = (data: Buffer, isBinary: boolean) => {
    if (isBinary) {
      ws.close(1003, 'binary frames are not accepted');
      return;
    }
    const env = parseEnvelope(data.toString('utf8'));
    if (isEnvelopeError(env)) {
      send(errorEnvelope('bad_envelope', env.detail, env.channel));
      if (++badInARow >= MAX_BAD_ENVELOPES) ws.close(1008, 'too many bad envelopes');
      return;
    }
    badInARow = 0;
    onEnvelope(env);
  };
  ws.on('message', guarded(ws, ctx.logger, onMessage));
  ws.once('close', (code: number) => {
    outflow.close();
    const deliberate = isDeliberateClose(code);
    for (const channel of channels.values()) {
      if (shed) void channel.close('slow_consumer');
      else if (deliberate) void channel.close('session_closed');
      else channel.detach();
    }
    channels.clear();
  });
  ws.on('error', (err) => ctx.logger.debug({ err: err.message }, 'websocket error'));
}
