// GET /events: the dashboard's live view, pushed as Server-Sent Events (text/event-stream), one
// `snapshot` event per tick to every open stream. Bounded: at most `maxStreams` streams; a stream
// whose socket still holds more than `maxBufferedBytes` unsent is skipped for that tick (a slow
// browser gets fewer snapshots, the relay never queues more for it), and one that stays that slow
// for `maxSkippedTicks` ticks in a row is closed. The ticker runs only while a stream is open and
// is stopped by close() (relay shutdown), which ends every stream.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendError } from '../http/http-server.js';

export interface EventStreamOptions {
  /** Milliseconds between snapshots. */
  intervalMs: number;
  maxStreams: number;
  maxBufferedBytes: number;
  maxSkippedTicks: number;
  /** A snapshot at a tick (advance: true) or for a stream that just opened (false). */
  snapshot: (advance: boolean) => unknown;
  /** The ticker starts afresh (no stream was open): traffic windows restart. */
  restart?: () => void;
}

interface Stream {
  res: ServerResponse;
  skipped: number;
}

export class EventStream {
  readonly #options: EventStreamOptions;
  readonly #streams = new Set<Stream>();
  #timer: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: EventStreamOptions) {
    this.#options = options;
  }

  get size(): number {
    return this.#streams.size;
  }

  /** Answers GET /events (auth already checked by the router's guard). */
  serve(_req: IncomingMessage, res: ServerResponse): void {
    if (this.#closed) {
      sendError(res, 'shutting_down', 'the relay is shutting down');
      return;
    }
    if (this.#streams.size >= this.#options.maxStreams) {
      const n = this.#options.maxStreams;
      sendError(
        res,
        'connection_limit',
        `too many dashboard event streams (${n})`,
        {},
        {
          limit: 'dashboard_streams',
        },
      );
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'x-accel-buffering': 'no',
    });
    res.socket?.setNoDelay(true);
    const stream: Stream = { res, skipped: 0 };
    if (this.#streams.size === 0) this.#options.restart?.();
    this.#streams.add(stream);
    // The response's 'close' is the connection going away (the request's may come earlier).
    res.once('close', () => this.#streams.delete(stream));
    res.write(`retry: 2000\n${frame(this.#options.snapshot(false))}`);
    this.#timer ??= setInterval(() => this.tick(), this.#options.intervalMs);
  }

  /** One snapshot to every stream that can take it (the timer calls it; tests may too). */
  tick(): void {
    if (this.#streams.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
      return;
    }
    const text = frame(this.#options.snapshot(true));
    for (const stream of this.#streams) {
      const { res } = stream;
      if (res.destroyed || res.writableEnded) {
        this.#streams.delete(stream);
        continue;
      }
      if (res.writableLength > this.#options.maxBufferedBytes) {
        stream.skipped += 1;
        if (stream.skipped >= this.#options.maxSkippedTicks) {
          this.#streams.delete(stream);
          res.destroy(); // a reader that stopped reading: its socket goes, nothing is kept
        }
        continue;
      }
      stream.skipped = 0;
      res.write(text);
    }
  }

  /** Ends every stream and stops the ticker (idempotent). */
  close(): void {
    this.#closed = true;
    clearInterval(this.#timer);
    this.#timer = undefined;
    for (const { res } of this.#streams) res.end();
    this.#streams.clear();
  }
}

function frame(data: unknown): string {
  return `event: snapshot\ndata: ${JSON.stringify(data)}\n\n`;
}
