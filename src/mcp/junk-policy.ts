// What a session does with lines on a server's stdout that are not JSON-RPC messages ("junk": a
// start-up banner, a debug print, a JSON value that is no message). PURE: the clock is passed in.
// Occasional junk is skipped, counted and logged at a bounded rate; sustained junk — more than
// JUNK_MAX_LINES lines or JUNK_MAX_CHARS characters within one JUNK_WINDOW_MS window — is the
// session's protocol error (upstream_protocol_error, problem `sustained_junk`). docs/operations.md.

/** The window junk is counted in, in milliseconds (fixed windows, starting at the first junk line). */
export const JUNK_WINDOW_MS = 10_000;
/** Junk lines a window may hold; one more ends the session. */
export const JUNK_MAX_LINES = 100;
/** Junk characters (UTF-16 code units) a window may hold; more ends the session. */
export const JUNK_MAX_CHARS = 1024 * 1024;
/** Junk lines logged per window; the rest are counted in one summary line. */
export const JUNK_LOGGED_LINES = 5;

/**
 * `log`: skip it and log it; `quiet`: skip it, counted only (the log budget is spent);
 * `sustained`: too much junk, end the session.
 */
export type JunkVerdict = 'log' | 'quiet' | 'sustained';

export class JunkPolicy {
  readonly #now: () => number;
  #windowStart = -Infinity;
  #lines = 0;
  #chars = 0;
  #unlogged = 0;
  #total = 0;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /** Junk lines seen since the start. */
  get total(): number {
    return this.#total;
  }

  /**
   * One junk line of `chars` characters. `onWindowEnd` is told how many lines of the window that
   * ended went unlogged (when there were some), so the caller can log one summary.
   */
  line(chars: number, onWindowEnd?: (unlogged: number) => void): JunkVerdict {
    const now = this.#now();
    if (now - this.#windowStart >= JUNK_WINDOW_MS) {
      if (this.#unlogged > 0) onWindowEnd?.(this.#unlogged);
      this.#windowStart = now;
      this.#lines = 0;
      this.#chars = 0;
      this.#unlogged = 0;
    }
    this.#total++;
    this.#lines++;
    this.#chars += chars;
    if (this.#lines > JUNK_MAX_LINES || this.#chars > JUNK_MAX_CHARS) return 'sustained';
    if (this.#lines <= JUNK_LOGGED_LINES) return 'log';
    this.#unlogged++;
    return 'quiet';
  }

  /** Lines of the current window not logged yet (for a last summary when the process ends). */
  takeUnlogged(): number {
    const n = this.#unlogged;
    this.#unlogged = 0;
    return n;
  }
}
