// A streaming parser of Server-Sent Events (the WHATWG "event stream" format), as the Streamable
// HTTP transport answers a POST or a GET. PURE: text in (already UTF-8 decoded, in chunks of any
// size), whole events out. Lines end with CRLF, LF or CR (a CR at the end of a chunk may be the
// first half of a CRLF); a blank line dispatches the event; `:` lines are comments; unknown fields
// are ignored. The bytes held for one event (its pending line and data) are bounded.

export interface SseEvent {
  /** The `event:` field; "message" when absent. */
  event: string;
  /** The `data:` lines joined with "\n". */
  data: string;
  /** The `id:` field of this event, if it had one. */
  id?: string;
  /** The `retry:` field, when it was all digits. */
  retry?: number;
}

/** An event (or a line of one) larger than the parser's bound. */
export class SseTooLarge extends Error {
  override name = 'SseTooLarge';
}

export class SseParser {
  readonly #maxChars: number;
  /** The unfinished last line of what was pushed so far. */
  #partial = '';
  /** The previous chunk ended with CR: a leading LF of the next one belongs to it. */
  #afterCr = false;
  #started = false;
  #event = '';
  #data: string[] = [];
  #dataChars = 0;
  #id: string | undefined;
  #retry: number | undefined;

  /** `maxChars`: at most this many characters held for one event (its data and pending line). */
  constructor(maxChars: number) {
    this.#maxChars = maxChars;
  }

  /** Parses `chunk`; returns the events it completes. Throws SseTooLarge past the bound. */
  push(chunk: string): SseEvent[] {
    const events: SseEvent[] = [];
    let text = chunk;
    if (!this.#started && text.length > 0) {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    let start = 0;
    if (this.#afterCr && text.charCodeAt(0) === 10) start = 1;
    this.#afterCr = false;
    const length = text.length;
    while (start < length) {
      let end = start;
      let code = 0;
      while (end < length) {
        code = text.charCodeAt(end);
        if (code === 10 || code === 13) break;
        end++;
      }
      if (end === length) break; // no line end: the rest waits for the next chunk
      const line =
        this.#partial === '' ? text.slice(start, end) : this.#partial + text.slice(start, end);
      this.#partial = '';
      this.#line(line, events);
      start = end + 1;
      if (code === 13) {
        if (start === length) this.#afterCr = true;
        else if (text.charCodeAt(start) === 10) start++;
      }
    }
    if (start < length) {
      this.#partial += text.slice(start);
      if (this.#partial.length + this.#dataChars > this.#maxChars) {
        throw new SseTooLarge(`an event stream line exceeds ${this.#maxChars} characters`);
      }
    }
    return events;
  }

  #line(line: string, events: SseEvent[]): void {
    if (line === '') return this.#dispatch(events);
    const colon = line.indexOf(':');
    if (colon === 0) return; // a comment
    const field = colon === -1 ? line : line.slice(0, colon);
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.charCodeAt(0) === 32) value = value.slice(1);
    switch (field) {
      case 'data':
        this.#dataChars += value.length + 1;
        if (this.#dataChars > this.#maxChars) {
          throw new SseTooLarge(`an event's data exceeds ${this.#maxChars} characters`);
        }
        this.#data.push(value);
        break;
      case 'event':
        this.#event = value;
        break;
      case 'id':
        if (!value.includes('\0')) this.#id = value;
        break;
      case 'retry':
        if (/^\d+$/.test(value)) this.#retry = Number(value);
        break;
      default:
      // an unknown field is ignored
    }
  }

  #dispatch(events: SseEvent[]): void {
    // An event without a data field is not dispatched (as the spec says); its fields are dropped.
    if (this.#data.length > 0) {
      const data = this.#data.length === 1 ? this.#data[0]! : this.#data.join('\n');
      const event: SseEvent = { event: this.#event === '' ? 'message' : this.#event, data };
      if (this.#id !== undefined) event.id = this.#id;
      if (this.#retry !== undefined) event.retry = this.#retry;
      events.push(event);
    }
    this.#event = '';
    this.#data = [];
    this.#dataChars = 0;
    this.#id = undefined;
    this.#retry = undefined;
  }
}
