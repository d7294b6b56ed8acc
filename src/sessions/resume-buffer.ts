// What a detached session keeps of its server's output until a client resumes it (docs/protocol.md §3):
// bounded in messages (session.resume_buffer_messages) and in UTF-8 bytes
// (session.max_resume_buffer_bytes), so one session whose server keeps writing while nobody reads
// cannot grow the relay; the session ends (slow_consumer) at the first line past either bound.
// PURE: no I/O.

export type ResumeBufferLimit = 'resume_buffer_messages' | 'max_resume_buffer_bytes';

export class ResumeBuffer {
  readonly #maxMessages: number;
  readonly #maxBytes: number;
  #lines: string[] = [];
  #bytes = 0;

  constructor(maxMessages: number, maxBytes: number) {
    this.#maxMessages = maxMessages;
    this.#maxBytes = maxBytes;
  }

  get size(): number {
    return this.#lines.length;
  }

  get bytes(): number {
    return this.#bytes;
  }

  /** Keeps `line`; returns the bound it passed (the buffer is then emptied), or undefined. */
  push(line: string): ResumeBufferLimit | undefined {
    this.#lines.push(line);
    this.#bytes += Buffer.byteLength(line);
    if (this.#lines.length > this.#maxMessages) return 'resume_buffer_messages';
    if (this.#bytes > this.#maxBytes) return 'max_resume_buffer_bytes';
    return undefined;
  }

  /** Every kept line, in order; the buffer is empty afterwards. */
  take(): string[] {
    const lines = this.#lines;
    this.#lines = [];
    this.#bytes = 0;
    return lines;
  }
}
