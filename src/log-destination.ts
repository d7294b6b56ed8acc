// Where the log lines go (stdout or logging.file): asynchronous writes on libuv's thread pool, a
// byte-bounded queue, and no exit hook. Logging must never hold the process: a reader of stdout
// that has gone (EPIPE) stops logging for good, a full disk (ENOSPC) or another write error drops
// what was queued, and a queue past its bound drops new lines (all counted in `dropped`). pino's
// own destination (sonic-boom) flushes synchronously on exit and retries EPIPE forever; this one
// is flushed only by flush(), which the caller bounds with a deadline (cli.ts).
//
// A pipe or socket (stdout read by another process) is written as a non-blocking libuv stream on
// the event loop: a blocking write() to a pipe nobody reads would hold a thread-pool thread, and
// Node joins those threads on exit, so even process.exit() would never return. Files (and TTYs)
// are written with fs.write on the thread pool.

import { closeSync, fstatSync, mkdirSync, openSync, write } from 'node:fs';
import { Socket } from 'node:net';
import { dirname } from 'node:path';

/** Lines queued beyond this many bytes are dropped. */
export const LOG_QUEUE_BYTES = 4 * 1024 * 1024;
/** Wait before retrying a write that would block (a non-blocking pipe that is full). */
const RETRY_MS = 20;
/** Errors after which nothing written to the descriptor can ever arrive. */
const FATAL = new Set(['EPIPE', 'EBADF', 'ECONNRESET', 'EINVAL']);

export class LogDestination {
  /** Lines (or whole queued batches) given up: queue full, write failed, or output gone. */
  dropped = 0;
  readonly #fd: number;
  readonly #ownsFd: boolean;
  /** The fd as a non-blocking stream, when it is a pipe or socket. */
  readonly #stream: Socket | undefined;
  readonly #maxBytes: number;
  #queue: string[] = [];
  #queuedBytes = 0;
  #writing = false;
  #broken = false;
  #waiters: (() => void)[] = [];

  /** `target`: a file descriptor (1 = stdout) or a file path, opened for appending. */
  constructor(target: number | string, maxBytes = LOG_QUEUE_BYTES) {
    if (typeof target === 'number') {
      this.#fd = target;
      this.#ownsFd = false;
    } else {
      mkdirSync(dirname(target), { recursive: true });
      this.#fd = openSync(target, 'a');
      this.#ownsFd = true;
    }
    this.#maxBytes = maxBytes;
    this.#stream = isPipe(this.#fd) ? pipeStream(this.#fd) : undefined;
  }

  /** True once the output can never be written again (the reader of a pipe has gone). */
  get broken(): boolean {
    return this.#broken;
  }

  /** True while nothing is queued or being written. */
  get idle(): boolean {
    return !this.#writing && this.#queue.length === 0;
  }

  /** pino's stream interface: one log line. Never blocks, never throws. (The bound counts UTF-16
   * code units: lifecycle lines are ASCII, and counting bytes would cost a pass per line.) */
  write(chunk: string): boolean {
    if (this.#broken || this.#queuedBytes + chunk.length > this.#maxBytes) {
      this.dropped++;
      return true;
    }
    this.#queue.push(chunk);
    this.#queuedBytes += chunk.length;
    if (!this.#writing) this.#next();
    return true;
  }

  /** Calls `done` once everything queued so far is written or given up (pino's logger.flush). */
  flush(done?: (err?: Error) => void): void {
    if (done === undefined) return;
    if (this.idle) process.nextTick(done);
    else this.#waiters.push(() => done());
  }

  /** Resolves when the queue is written or given up, or after `ms` (whichever comes first). */
  flushWithin(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      timer.unref();
      this.flush(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Closes a file this destination opened (stdout is left alone). */
  close(): void {
    this.#broken = true;
    this.#dropQueue();
    this.#stream?.destroy();
    if (this.#ownsFd) {
      try {
        closeSync(this.#fd);
      } catch {
        // already closed
      }
    }
  }

  #next(): void {
    if (this.#queue.length === 0) {
      this.#writing = false;
      const waiters = this.#waiters;
      this.#waiters = [];
      for (const wake of waiters) wake();
      return;
    }
    this.#writing = true;
    const text = this.#queue.length === 1 ? this.#queue[0]! : this.#queue.join('');
    this.#queue = [];
    this.#queuedBytes = 0;
    this.#writeOut(Buffer.from(text, 'utf8'));
  }

  #writeOut(buf: Buffer): void {
    if (this.#stream !== undefined) {
      this.#stream.write(buf, (err) => this.#written(err ?? null));
      return;
    }
    write(this.#fd, buf, 0, buf.length, null, (err, written) => {
      if (err === null) {
        if (written < buf.length) this.#writeOut(buf.subarray(written));
        else this.#next();
        return;
      }
      const code = err.code ?? '';
      if (code === 'EAGAIN' && !this.#broken) {
        setTimeout(() => (this.#broken ? this.#next() : this.#writeOut(buf)), RETRY_MS).unref();
        return;
      }
      this.#written(err);
    });
  }

  /** One write ended (an error: its batch is lost; a fatal one ends logging for good). */
  #written(err: Error | null): void {
    if (err !== null) {
      this.dropped++;
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (FATAL.has(code) || this.#stream?.destroyed === true) {
        this.#broken = true;
        this.#dropQueue();
      }
    }
    this.#next();
  }

  #dropQueue(): void {
    if (this.#queue.length > 0) this.dropped += this.#queue.length;
    this.#queue = [];
    this.#queuedBytes = 0;
  }
}

function isPipe(fd: number): boolean {
  try {
    const info = fstatSync(fd);
    return info.isFIFO() || info.isSocket();
  } catch {
    return false;
  }
}

/** The pipe as a write-only libuv stream that never keeps the process alive. */
function pipeStream(fd: number): Socket {
  const socket = new Socket({ fd, readable: false, writable: true });
  socket.on('error', () => undefined); // each write's callback gets the error
  socket.unref();
  return socket;
}
