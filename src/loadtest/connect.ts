// The load test's transports: one "endpoint" is one WebSocket (to /mcp/{service}, to /ws with N
// channels, or to any plain MCP-over-WebSocket URL) or one spawned stdio server. Each channel of
// an endpoint gets a send function; what arrives is handed to its sink, already parsed.

import { spawn, type ChildProcess } from 'node:child_process';
import type { IncomingMessage } from 'node:http';
import type { Writable } from 'node:stream';
import { WebSocket } from 'ws';
import { WriteBatcher } from '../util/write-batcher.js';

/** What a load run drives: a relay endpoint, or a server over stdio (the baseline). */
export type Target =
  | { mode: 'mcp'; url: string }
  | { mode: 'raw'; url: string }
  | { mode: 'http'; url: string }
  | { mode: 'ws'; url: string; service: string }
  | { mode: 'stdio'; command: string[] };

/** Receives one channel's traffic. */
export interface ChannelSink {
  /** One JSON-RPC message from the server, parsed. */
  message(msg: unknown): void;
  /** An error that belongs to no request (a /ws `error` envelope). */
  fault(reason: string): void;
  /** The channel can carry nothing more, and why. */
  closed(reason: string): void;
}

export interface Endpoint {
  /**
   * One send function per sink, in order: a serialised JSON-RPC message, and its request id when
   * it is a request the driver times (the HTTP transport fails that id when the POST fails).
   */
  readonly senders: ((text: string, id?: number) => void)[];
  close(): Promise<void>;
}

/** Connecting, opening or initialising failed; `reason` is the relay's reason when it gave one. */
export class ConnectError extends Error {
  override name = 'ConnectError';
  readonly reason: string;
  constructor(reason: string, message: string) {
    super(message);
    this.reason = reason;
  }
}

const CLOSE_WAIT_MS = 2000;
const MAX_ERROR_BODY = 4096;

export interface EndpointOptions {
  /**
   * Let the messages one event-loop turn sends leave in one write (each still its own frame or
   * line), so the generator's system calls do not eat the CPU it shares with what it measures.
   */
  coalesce: boolean;
}

export async function openEndpoint(
  target: Target,
  sinks: ChannelSink[],
  headers: Record<string, string>,
  signal: AbortSignal,
  options: EndpointOptions = { coalesce: true },
): Promise<Endpoint> {
  if (target.mode === 'stdio') return openStdio(target.command, sinks[0]!, signal, options);
  if (target.mode === 'http') throw new Error('mode http: use openHttpEndpoint');
  const protocol = { mcp: 'mcp', ws: 'mcpmux.v1', raw: undefined }[target.mode];
  const { ws, socket } = await connect(target.url, protocol, headers, signal);
  const batch = batching(socket, options);
  if (target.mode === 'ws') return openMux(ws, target.service, sinks, signal, batch);
  const sink = sinks[0]!;
  ws.on('message', (data: Buffer) => deliver(sink, data.toString('utf8')));
  ws.once('close', (code: number, reason: Buffer) => sink.closed(closeReason(code, reason)));
  return { senders: [batch((text) => ws.send(text))], close: () => closeWs(ws) };
}

type Send = (text: string) => void;

/** Wraps a channel's send so the writes of one turn to `stream` are coalesced (when asked). */
export function batching(stream: Writable, options: EndpointOptions): (send: Send) => Send {
  if (!options.coalesce) return (send) => send;
  const batcher = new WriteBatcher();
  return (send) => (text) => {
    batcher.begin(stream);
    send(text);
  };
}

function deliver(sink: ChannelSink, text: string): void {
  let msg: unknown;
  try {
    msg = JSON.parse(text);
  } catch {
    sink.fault('bad_json');
    return;
  }
  sink.message(msg);
}

/** The relay closes with "reason: message"; anything else is told by its code. */
function closeReason(code: number, reason: Buffer): string {
  const m = /^([a-z_]+):/.exec(reason.toString('utf8'));
  return m !== null ? m[1]! : `closed:${code}`;
}

function connect(
  url: string,
  protocol: string | undefined,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<{ ws: WebSocket; socket: Writable }> {
  signal.throwIfAborted();
  // The load generator shares the machine with what it measures, so it spends as little as it
  // can per frame: a zero mask (ws then skips masking) and no UTF-8 check of what the server sends.
  const ws = new WebSocket(url, protocol === undefined ? [] : [protocol], {
    headers,
    perMessageDeflate: false,
    maxPayload: 64 * 1024 * 1024,
    generateMask: (mask: Buffer) => mask.fill(0),
    skipUTF8Validation: true,
  });
  ws.on('error', () => undefined); // reported through the promise or 'close'
  let socket: Writable | undefined;
  ws.once('upgrade', (res: IncomingMessage) => (socket = res.socket));
  return new Promise((resolve, reject) => {
    const fail = (err: ConnectError) => {
      done();
      ws.terminate();
      reject(err);
    };
    const onAbort = () => fail(new ConnectError('aborted', `${url}: connecting was aborted`));
    const onError = (err: Error) =>
      fail(new ConnectError('connect_failed', `${url}: ${err.message}`));
    const onResponse = (_req: unknown, res: IncomingMessage) => {
      done();
      void refusal(url, res).then((err) => fail(err));
    };
    const onOpen = () => {
      done();
      resolve({ ws, socket: socket! });
    };
    const done = () => {
      signal.removeEventListener('abort', onAbort);
      ws.off('error', onError);
      ws.off('unexpected-response', onResponse);
      ws.off('open', onOpen);
    };
    signal.addEventListener('abort', onAbort, { once: true });
    ws.once('error', onError);
    ws.once('unexpected-response', onResponse);
    ws.once('open', onOpen);
  });
}

/** Reads a refused upgrade's body (bounded, 2 s at most) into a ConnectError. */
async function refusal(url: string, res: IncomingMessage): Promise<ConnectError> {
  let body = '';
  const timer = setTimeout(() => res.destroy(), CLOSE_WAIT_MS);
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      body += chunk.toString('utf8');
      if (body.length > MAX_ERROR_BODY) break;
    }
  } catch {
    // the status is enough
  } finally {
    clearTimeout(timer);
    res.destroy();
  }
  const status = res.statusCode ?? 0;
  let reason = `http_${status}`;
  let message = body.slice(0, 200);
  try {
    const parsed = JSON.parse(body) as { reason?: unknown; error?: unknown };
    if (typeof parsed.reason === 'string') reason = parsed.reason;
    if (typeof parsed.error === 'string') message = parsed.error;
  } catch {
    // not the relay's JSON
  }
  return new ConnectError(reason, `${url}: HTTP ${status} ${reason}: ${message}`);
}

/** /ws: opens one channel per sink and waits for every `opened` (or the first refusal). */
function openMux(
  ws: WebSocket,
  service: string,
  sinks: ChannelSink[],
  signal: AbortSignal,
  batch: (send: Send) => Send,
): Promise<Endpoint> {
  const byName = new Map<string, ChannelSink>();
  const waiting = new Set<string>();
  const prefixes: string[] = [];
  let settle: ((err?: ConnectError) => void) | undefined;
  const opened = new Promise<void>((resolve, reject) => {
    settle = (err) => (err === undefined ? resolve() : reject(err));
  });
  ws.on('message', (data: Buffer) => {
    let env: { type?: unknown; channel?: unknown; message?: unknown; reason?: unknown };
    try {
      env = JSON.parse(data.toString('utf8')) as typeof env;
    } catch {
      return;
    }
    const name = typeof env.channel === 'string' ? env.channel : '';
    const sink = byName.get(name);
    const reason = typeof env.reason === 'string' ? env.reason : 'unknown';
    if (env.type === 'message') sink?.message(env.message);
    else if (env.type === 'opened') {
      waiting.delete(name);
      if (waiting.size === 0) settle?.();
    } else if (env.type === 'closed') sink?.closed(reason);
    else if (env.type === 'error') {
      const text = typeof (env as { message?: unknown }).message === 'string' ? env.message : '';
      if (waiting.has(name))
        settle?.(new ConnectError(reason, `channel ${name}: ${reason}: ${String(text)}`));
      else if (sink !== undefined) sink.fault(reason);
    }
  });
  ws.once('close', (code: number, reason: Buffer) => {
    const why = closeReason(code, reason);
    settle?.(new ConnectError(why, `/ws closed while opening channels (${why})`));
    for (const sink of byName.values()) sink.closed(why);
  });
  sinks.forEach((sink, i) => {
    const name = `c${i}`;
    byName.set(name, sink);
    waiting.add(name);
    prefixes.push(`{"type":"message","channel":"${name}","message":`);
    ws.send(JSON.stringify({ type: 'open', channel: name, service }));
  });
  const onAbort = () => settle?.(new ConnectError('aborted', 'opening channels was aborted'));
  signal.addEventListener('abort', onAbort, { once: true });
  const endpoint: Endpoint = {
    senders: prefixes.map((prefix) => batch((text) => ws.send(prefix + text + '}'))),
    close: () => closeWs(ws),
  };
  return opened.then(
    () => {
      signal.removeEventListener('abort', onAbort);
      return endpoint;
    },
    async (err: unknown) => {
      signal.removeEventListener('abort', onAbort);
      await endpoint.close();
      throw err;
    },
  );
}

async function closeWs(ws: WebSocket): Promise<void> {
  if (ws.readyState === WebSocket.CLOSED) return;
  const closed = new Promise<void>((resolve) => ws.once('close', () => resolve()));
  if (ws.readyState === WebSocket.OPEN) ws.close(1000, 'load test done');
  else ws.terminate();
  const timer = setTimeout(() => ws.terminate(), CLOSE_WAIT_MS);
  await closed;
  clearTimeout(timer);
}

/** Spawns a stdio server (no relay, no sandbox: the limit); stdout is split into lines. */
async function openStdio(
  command: string[],
  sink: ChannelSink,
  signal: AbortSignal,
  options: EndpointOptions,
): Promise<Endpoint> {
  signal.throwIfAborted();
  const child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.stdin.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    const onAbort = () => child.kill('SIGKILL');
    signal.addEventListener('abort', onAbort, { once: true });
    child.once('spawn', () => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    });
    child.once('error', (err) => {
      signal.removeEventListener('abort', onAbort);
      reject(new ConnectError('spawn_failed', `${command.join(' ')}: ${err.message}`));
    });
  });
  let partial = '';
  child.stdout.setEncoding('utf8');
  child.stdout.on('data', (chunk: string) => {
    let start = 0;
    let nl: number;
    while ((nl = chunk.indexOf('\n', start)) !== -1) {
      const line = partial + chunk.slice(start, nl);
      partial = '';
      start = nl + 1;
      if (line.trim() !== '') deliver(sink, line);
    }
    partial += chunk.slice(start);
  });
  child.once('exit', (code, sig) => sink.closed(`exited:${code ?? sig ?? '?'}`));
  // One line per message, coalesced per turn exactly as the WebSocket paths are: the same load.
  const batch = batching(child.stdin, options);
  return {
    senders: [batch((text) => child.stdin.write(text + '\n'))],
    close: () => stopChild(child, exited),
  };
}

async function stopChild(child: ChildProcess, exited: Promise<void>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.stdin?.end();
  const timer = setTimeout(() => child.kill('SIGKILL'), CLOSE_WAIT_MS);
  await exited;
  clearTimeout(timer);
}
