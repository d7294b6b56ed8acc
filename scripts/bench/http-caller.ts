// A lean HTTP/1.1 keep-alive caller for the REST load: one TCP connection, one request at a time,
// the request bytes built once. node:http's client spends about 100 µs of CPU per request, which
// on a small machine the load generator would take from the relay it measures. Answers must carry
// Content-Length (the relay's always do); anything else fails the caller.

import { connect, type Socket } from 'node:net';

export interface HttpAnswer {
  status: number;
  body: string;
}

const HEAD_END = Buffer.from('\r\n\r\n');
const MAX_HEAD_BYTES = 16 * 1024;

export class HttpCaller {
  readonly #socket: Socket;
  readonly #request: Buffer;
  #buffer: Buffer = Buffer.alloc(0);
  #waiter: { resolve: (a: HttpAnswer) => void; reject: (e: Error) => void } | undefined;
  #failure: Error | undefined;

  private constructor(socket: Socket, request: Buffer) {
    this.#socket = socket;
    this.#request = request;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#onData(chunk));
    socket.on('error', (err) => this.#fail(err));
    socket.on('close', () => this.#fail(new Error('the connection closed')));
  }

  /** Connects to `url` (http only) for repeated `method` requests with this body. */
  static open(
    url: string,
    method: string,
    body: string,
    headers: Record<string, string> = {},
  ): Promise<HttpCaller> {
    const u = new URL(url);
    if (u.protocol !== 'http:') throw new Error(`HttpCaller speaks plain http only, not ${url}`);
    const payload = Buffer.from(body);
    const lines = [
      `${method} ${u.pathname}${u.search} HTTP/1.1`,
      `host: ${u.host}`,
      'connection: keep-alive',
      'content-type: application/json',
      `content-length: ${payload.length}`,
      ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
    ];
    const request = Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n'), payload]);
    return new Promise((resolve, reject) => {
      const socket = connect({ host: u.hostname, port: Number(u.port || 80) });
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        resolve(new HttpCaller(socket, request));
      });
    });
  }

  /** Sends the request once and resolves with the answer. */
  call(): Promise<HttpAnswer> {
    if (this.#failure !== undefined) return Promise.reject(this.#failure);
    if (this.#waiter !== undefined) return Promise.reject(new Error('one call at a time'));
    return new Promise((resolve, reject) => {
      this.#waiter = { resolve, reject };
      this.#socket.write(this.#request);
    });
  }

  close(): void {
    this.#socket.destroy();
  }

  #onData(chunk: Buffer): void {
    this.#buffer = this.#buffer.length === 0 ? chunk : Buffer.concat([this.#buffer, chunk]);
    const headEnd = this.#buffer.indexOf(HEAD_END);
    if (headEnd === -1) {
      if (this.#buffer.length > MAX_HEAD_BYTES) this.#fail(new Error('response head too long'));
      return;
    }
    const head = this.#buffer.toString('latin1', 0, headEnd);
    const status = Number(head.slice(9, 12));
    const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
    if (!(status >= 100) || m === null) {
      this.#fail(new Error(`unreadable response: ${head.slice(0, 200)}`));
      return;
    }
    const end = headEnd + 4 + Number(m[1]);
    if (this.#buffer.length < end) return;
    const body = this.#buffer.toString('utf8', headEnd + 4, end);
    this.#buffer = this.#buffer.subarray(end);
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.resolve({ status, body });
  }

  #fail(err: Error): void {
    this.#failure ??= err;
    this.#socket.destroy();
    const waiter = this.#waiter;
    this.#waiter = undefined;
    waiter?.reject(this.#failure);
  }
}
