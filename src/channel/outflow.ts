// Backpressure towards one WebSocket client. Frames go out at once; when the socket's buffered
// output passes the high-water mark, the sessions feeding it stop reading their servers' stdout
// (the servers then block on a full pipe) until the socket drains below the low-water mark. If the
// buffer still grows past the hard bound (max_buffered_bytes), the caller is told to shed load.

import type { Socket } from 'node:net';
import type { WebSocket } from 'ws';
import { WriteBatcher } from '../util/write-batcher.js';

export interface Pausable {
  pause(): void;
  resume(): void;
}

export class Outflow {
  readonly #ws: WebSocket;
  readonly #socket: Socket;
  readonly #highWater: number;
  readonly #lowWater: number;
  readonly #maxBuffered: number;
  readonly #sources = new Set<Pausable>();
  #paused = false;
  #onDrain = () => this.#checkDrained();
  readonly #batch = new WriteBatcher();

  constructor(ws: WebSocket, socket: Socket, maxBufferedBytes: number) {
    this.#ws = ws;
    this.#socket = socket;
    this.#maxBuffered = maxBufferedBytes;
    this.#highWater = Math.min(1024 * 1024, Math.floor(maxBufferedBytes / 2));
    this.#lowWater = Math.floor(this.#highWater / 4);
  }

  get paused(): boolean {
    return this.#paused;
  }

  get bufferedAmount(): number {
    return this.#ws.bufferedAmount;
  }

  add(source: Pausable): void {
    this.#sources.add(source);
    if (this.#paused) source.pause();
  }

  delete(source: Pausable): void {
    if (this.#sources.delete(source) && this.#paused) source.resume();
  }

  /** Sends one text frame; false when the buffer passed max_buffered_bytes (slow consumer). */
  send(data: string): boolean {
    const ws = this.#ws;
    if (ws.readyState !== ws.OPEN) return true;
    this.#batch.begin(this.#socket);
    ws.send(data);
    let buffered = ws.bufferedAmount;
    if (buffered <= this.#highWater) return true;
    // A burst (a resume's buffered output) may pile up in the batch: let the kernel take it first.
    this.#batch.flush();
    buffered = ws.bufferedAmount;
    if (buffered <= this.#highWater) return true;
    if (!this.#paused) this.#pause();
    return buffered <= this.#maxBuffered;
  }

  /** The socket is gone: whatever this outflow paused reads again (a detached session buffers). */
  close(): void {
    this.#socket.off('drain', this.#onDrain);
    if (this.#paused) for (const source of this.#sources) source.resume();
    this.#paused = false;
    this.#sources.clear();
  }

  #pause(): void {
    this.#paused = true;
    for (const source of this.#sources) source.pause();
    this.#socket.on('drain', this.#onDrain);
  }

  #checkDrained(): void {
    if (this.#ws.bufferedAmount > this.#lowWater) return;
    this.#socket.off('drain', this.#onDrain);
    this.#paused = false;
    for (const source of this.#sources) source.resume();
  }
}

/**
 * Inbound backpressure for one WebSocket: while any of its sessions' servers has a full stdin,
 * the socket is not read (TCP then holds the client back).
 */
export function inputPauser(ws: WebSocket): (drained: Promise<void>) => void {
  let waiting = 0;
  return (drained) => {
    if (waiting++ === 0) ws.pause();
    void drained.then(() => {
      if (--waiting === 0) ws.resume();
    });
  };
}
