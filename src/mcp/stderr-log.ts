// A server's stderr into the relay's log, bounded: each line cut to MAX_CHARS, at most
// LINES_PER_SECOND lines a second per process; what is dropped is counted in one summary line
// when the next second starts (or the process exits). stderr is free-form logging (MCP spec),
// so it is logged at info as the server's words, never treated as an error.

import type { Logger } from '../log.js';

const LINES_PER_SECOND = 20;
const MAX_CHARS = 1000;

export class StderrLog {
  readonly #log: Logger;
  #windowStart = 0;
  #inWindow = 0;
  #suppressed = 0;

  constructor(log: Logger) {
    this.#log = log;
  }

  line(text: string): void {
    const now = Date.now();
    if (now - this.#windowStart >= 1000) {
      this.flush();
      this.#windowStart = now;
      this.#inWindow = 0;
    }
    if (this.#inWindow++ >= LINES_PER_SECOND) {
      this.#suppressed++;
      return;
    }
    this.#log.info({ stderr: text.length > MAX_CHARS ? text.slice(0, MAX_CHARS) + '…' : text });
  }

  /** Reports the lines dropped since the last report. */
  flush(): void {
    if (this.#suppressed === 0) return;
    this.#log.info({ suppressed: this.#suppressed }, 'stderr lines not logged (rate limit)');
    this.#suppressed = 0;
  }
}
