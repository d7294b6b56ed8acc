// HTTP helpers for the operations tests (auth, REST API, metrics, TLS): a JSON request over http or
// https, an upgrade that is expected to be refused, a WebSocket with headers/TLS options, and an
// in-memory log sink.

import { once } from 'node:events';
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';
import { request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { Writable } from 'node:stream';
import { WebSocket, type ClientOptions } from 'ws';
import { createLogger, type Logger } from '../../src/log.js';
import { WsCursor } from './relay.js';

export interface HttpAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** The body parsed as JSON, or undefined when it is not JSON. */
  body: any;
}

export interface HttpOptions {
  method?: string;
  headers?: Record<string, string>;
  /** A string body is sent as is; anything else as JSON. */
  body?: unknown;
  /** CA certificate(s) for https. */
  ca?: string | Buffer;
  timeoutMs?: number;
}

/** Reads a whole answer; `body` is the parsed JSON, or undefined when it is not JSON. */
function readAnswer(
  res: IncomingMessage,
  resolve: (answer: HttpAnswer) => void,
  reject: (err: Error) => void,
): void {
  const chunks: Buffer[] = [];
  res.on('data', (chunk: Buffer) => chunks.push(chunk));
  res.on('end', () => {
    const text = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      body = undefined;
    }
    resolve({ status: res.statusCode ?? 0, headers: res.headers, text, body });
  });
  res.on('error', reject);
}

/**
 * The bytes and headers of a request with `body` (a string as is, anything else as JSON): JSON's
 * content type unless the caller set one, and its content length.
 */
export function requestBody(options: { body?: unknown; headers?: Record<string, string> }): {
  payload: string | undefined;
  headers: Record<string, string>;
} {
  const { body } = options;
  const payload =
    body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string> = { ...options.headers };
  if (payload !== undefined) {
    headers['content-type'] ??= 'application/json';
    headers['content-length'] = String(Buffer.byteLength(payload));
  }
  return { payload, headers };
}

/** One HTTP(S) request, answered within a deadline. */
export function http(url: string, options: HttpOptions = {}): Promise<HttpAnswer> {
  const { payload, headers } = requestBody(options);
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const send = url.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(url, {
      method: options.method ?? 'GET',
      headers,
      ...(options.ca !== undefined && { ca: options.ca }),
    });
    req.setTimeout(timeoutMs, () =>
      req.destroy(new Error(`no answer from ${url} in ${timeoutMs} ms`)),
    );
    req.on('response', (res) => readAnswer(res, resolve, reject));
    req.on('error', reject);
    req.end(payload);
  });
}

/** A WebSocket upgrade that must be refused: its HTTP status, headers and JSON body. */
export function refusedUpgrade(
  url: string,
  headers: Record<string, string> = {},
  ca?: string | Buffer,
): Promise<HttpAnswer> {
  const httpUrl = url.replace(/^ws/, 'http');
  return new Promise((resolve, reject) => {
    const send = httpUrl.startsWith('https:') ? httpsRequest : httpRequest;
    const req = send(httpUrl, {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Version': '13',
        'Sec-WebSocket-Key': randomBytes(16).toString('base64'),
        ...headers,
      },
      ...(ca !== undefined && { ca }),
    });
    req.setTimeout(5000, () => req.destroy(new Error(`no answer to the upgrade of ${url}`)));
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      reject(new Error(`upgrade of ${url} was accepted`));
    });
    req.on('response', (res) => readAnswer(res, resolve, reject));
    req.on('error', reject);
    req.end();
  });
}

/** Opens a WebSocket with client options (headers, ca); rejects on a refused upgrade. */
export async function connectWs(
  url: string,
  protocols: string | string[] | undefined,
  options: ClientOptions = {},
): Promise<WsCursor> {
  const ws = new WebSocket(url, protocols, options);
  const cursor = new WsCursor(ws);
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      once(ws, 'open'),
      once(ws, 'unexpected-response').then((args: unknown[]) => {
        const res = args[1] as { statusCode: number };
        throw new Error(`upgrade refused: HTTP ${res.statusCode}`);
      }),
      once(ws, 'error').then(([err]: unknown[]) => {
        throw err as Error;
      }),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no upgrade of ${url} in 5000 ms`)), 5000);
      }),
    ]);
  } catch (err) {
    ws.terminate();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return cursor;
}

/** A pino logger writing JSON lines to memory. */
export function captureLogs(): { logger: Logger; text: () => string; lines: () => any[] } {
  const chunks: string[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      chunks.push(chunk.toString());
      callback();
    },
  });
  const logger = createLogger({ level: 'debug', stream });
  const text = () => chunks.join('');
  return {
    logger,
    text,
    lines: () =>
      text()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l)),
  };
}

export const bearer = (token: string) => ({ authorization: `Bearer ${token}` });
export const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

/** A raw TCP connection to `url`'s host and port (optionally from `localAddress`), its bytes collected. */
export interface RawConnection {
  socket: Socket;
  /** Everything received so far. */
  received(): string;
  /** Resolves when the socket has closed (either side), within `timeoutMs`. */
  closed(timeoutMs?: number): Promise<string>;
}

export async function rawConnect(url: string, localAddress?: string): Promise<RawConnection> {
  const { hostname, port } = new URL(url);
  const socket = connect({
    host: hostname,
    port: Number(port),
    ...(localAddress !== undefined && { localAddress }),
  });
  const chunks: Buffer[] = [];
  socket.on('data', (c: Buffer) => chunks.push(c));
  socket.on('error', () => undefined);
  const closing = once(socket, 'close');
  await Promise.race([
    once(socket, 'connect'),
    closing.then(() => {
      throw new Error(`connection to ${url} closed before it opened`);
    }),
  ]);
  const received = () => Buffer.concat(chunks).toString('utf8');
  return {
    socket,
    received,
    closed: async (timeoutMs = 5000) => {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          closing,
          new Promise((_, reject) => {
            timer = setTimeout(
              () => reject(new Error(`socket still open after ${timeoutMs} ms`)),
              timeoutMs,
            );
          }),
        ]);
      } finally {
        clearTimeout(timer);
      }
      return received();
    },
  };
}
