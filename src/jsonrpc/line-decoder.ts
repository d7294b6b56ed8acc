// Bytes → lines for a stdio server's stdout (or stderr). Pure: feed it chunks, it calls back with
// each complete line. Bounded: a line longer than maxLineBytes is reported once and skipped up to
// its newline, never buffered. Chunks are kept as a list until a newline arrives, so a long line
// costs one concat, not one per chunk.

export interface LineDecoderOptions {
  maxLineBytes: number;
  onLine: (line: string) => void;
  /** Called once per over-long line, with the number of bytes seen when the limit was passed. */
  onOverflow: (bytesSeen: number) => void;
}

export class LineDecoder {
  readonly #maxLineBytes: number;
  readonly #onLine: (line: string) => void;
  readonly #onOverflow: (bytesSeen: number) => void;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  #discarding = false;

  constructor(options: LineDecoderOptions) {
    if (!(options.maxLineBytes > 0)) throw new RangeError('maxLineBytes must be positive');
    this.#maxLineBytes = options.maxLineBytes;
    this.#onLine = options.onLine;
    this.#onOverflow = options.onOverflow;
  }

  /** Bytes held for an incomplete line. */
  get bufferedBytes(): number {
    return this.#pendingBytes;
  }

  push(chunk: Buffer): void {
    let start = 0;
    for (;;) {
      const nl = chunk.indexOf(10, start);
      if (nl === -1) {
        this.#hold(chunk, start);
        return;
      }
      this.#complete(chunk, start, nl);
      start = nl + 1;
    }
  }

  /** End of stream: a final line without a newline is still delivered. */
  end(): void {
    if (this.#pendingBytes > 0 && !this.#discarding) this.#emit(this.#take());
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#discarding = false;
  }

  #hold(chunk: Buffer, start: number): void {
    if (start >= chunk.length || this.#discarding) return;
    const size = chunk.length - start;
    if (this.#pendingBytes + size > this.#maxLineBytes) {
      this.#overflow(this.#pendingBytes + size);
      return;
    }
    this.#pending.push(start === 0 ? chunk : chunk.subarray(start));
    this.#pendingBytes += size;
  }

  #complete(chunk: Buffer, start: number, nl: number): void {
    if (this.#discarding) {
      this.#discarding = false;
      return;
    }
    const size = nl - start;
    if (this.#pendingBytes + size > this.#maxLineBytes) {
      this.#overflow(this.#pendingBytes + size);
      this.#discarding = false;
      return;
    }
    let line: string;
    if (this.#pendingBytes === 0) {
      line = chunk.toString('utf8', start, nl);
    } else {
      this.#pending.push(chunk.subarray(start, nl));
      this.#pendingBytes += size;
      line = this.#take();
    }
    this.#emit(line);
  }

  #take(): string {
    const line =
      this.#pending.length === 1
        ? this.#pending[0]!.toString('utf8')
        : Buffer.concat(this.#pending, this.#pendingBytes).toString('utf8');
    this.#pending = [];
    this.#pendingBytes = 0;
    return line;
  }

  #overflow(bytesSeen: number): void {
    this.#pending = [];
    this.#pendingBytes = 0;
    this.#discarding = true;
    this.#onOverflow(bytesSeen);
  }

  #emit(line: string): void {
    const text = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (text.length === 0 || (text.charCodeAt(0) <= 32 && text.trim() === '')) return;
    this.#onLine(text);
  }
}
