// The event log of one Streamable HTTP session: every SSE event the relay sent (or meant to send)
// on any of the session's streams, in order, so a client that lost a stream can replay what it
// missed with Last-Event-ID (docs/protocol.md, "Streamable HTTP"). One sequence per session, so
// event ids are unique within it; bounded in bytes: past the bound the oldest events are dropped
// (counted), whatever their stream. PURE: no I/O.

export interface LoggedEvent {
  stream: number;
  seq: number;
  data: string;
  /** UTF-8 bytes of data. */
  bytes: number;
}

export class EventLog {
  readonly #maxBytes: number;
  #events: LoggedEvent[] = [];
  /** Index of the oldest live entry in #events (entries before it are dropped, compacted lazily). */
  #head = 0;
  #bytes = 0;
  #nextSeq = 1;
  #dropped = 0;

  constructor(maxBytes: number) {
    this.#maxBytes = maxBytes;
  }

  /** Bytes of data held (UTF-8). */
  get bytes(): number {
    return this.#bytes;
  }
  get size(): number {
    return this.#events.length - this.#head;
  }
  /** Events dropped for the byte bound since the log began. */
  get dropped(): number {
    return this.#dropped;
  }

  /** A sequence number for an event that is not kept (a priming event). */
  nextSeq(): number {
    return this.#nextSeq++;
  }

  /**
   * Appends an event of `stream` and returns it. When the log passes its bound, the oldest events
   * go first; an event larger than the whole bound is not kept at all (it is still returned).
   */
  append(stream: number, data: string): LoggedEvent {
    const event = { stream, seq: this.#nextSeq++, data, bytes: Buffer.byteLength(data) };
    if (event.bytes > this.#maxBytes) {
      this.#dropped++;
      return event;
    }
    this.#events.push(event);
    this.#bytes += event.bytes;
    while (this.#bytes > this.#maxBytes) this.#dropOldest();
    return event;
  }

  /** The kept events of `stream` after sequence number `afterSeq`, in order. */
  after(stream: number, afterSeq: number): LoggedEvent[] {
    const out: LoggedEvent[] = [];
    for (let i = this.#head; i < this.#events.length; i++) {
      const e = this.#events[i]!;
      if (e.stream === stream && e.seq > afterSeq) out.push(e);
    }
    return out;
  }

  /** Forgets the events of `stream` (it ended and its connection took them all). */
  forget(stream: number): void {
    const kept: LoggedEvent[] = [];
    for (let i = this.#head; i < this.#events.length; i++) {
      const e = this.#events[i]!;
      if (e.stream === stream) this.#bytes -= e.bytes;
      else kept.push(e);
    }
    this.#events = kept;
    this.#head = 0;
  }

  /** Forgets every event (the session ended). */
  clear(): void {
    this.#events.length = 0;
    this.#head = 0;
    this.#bytes = 0;
  }

  #dropOldest(): void {
    const e = this.#events[this.#head];
    if (e === undefined) return;
    this.#bytes -= e.bytes;
    this.#head++;
    this.#dropped++;
    if (this.#head > 1024 && this.#head * 2 > this.#events.length) {
      this.#events.splice(0, this.#head);
      this.#head = 0;
    }
  }
}
