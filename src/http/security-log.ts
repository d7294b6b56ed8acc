// Security events as structured log lines: `{"security":"auth_failed","ip":…,"path":…}`. Values
// from clients are cut to 256 characters with control characters removed, URLs lose their
// access_token, and a flood of one event from one address is folded into one line per window
// with a `suppressed` count, so an attacker cannot fill the disk through the log.

import type { Logger } from '../log.js';
import { redactUrl } from '../log.js';

export type SecurityEvent =
  | 'auth_failed'
  | 'forbidden_origin'
  | 'forbidden_host'
  | 'rate_limited'
  | 'connection_limit'
  | 'body_too_large'
  | 'session_opened'
  | 'session_closed'
  | 'session_deleted';

/** Events that come from a misbehaving client: logged at warn and throttled per address. */
const THROTTLED: ReadonlySet<SecurityEvent> = new Set([
  'auth_failed',
  'forbidden_origin',
  'forbidden_host',
  'rate_limited',
  'connection_limit',
  'body_too_large',
]);

const MAX_VALUE_CHARS = 256;
const THROTTLE_WINDOW_MS = 10_000;
const MAX_THROTTLE_KEYS = 10_000;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** A client-supplied string made safe for a log line. */
export function sanitize(value: string): string {
  const clean = value.replace(CONTROL, '');
  return clean.length <= MAX_VALUE_CHARS ? clean : clean.slice(0, MAX_VALUE_CHARS - 1) + '…';
}

type Fields = Record<string, string | number | boolean | undefined>;

export class SecurityLog {
  readonly #log: Logger;
  readonly #now: () => number;
  /** `event ip` → start of its window and how many lines were folded into it. */
  readonly #windows = new Map<string, { since: number; suppressed: number }>();

  constructor(logger: Logger, now: () => number = Date.now) {
    this.#log = logger.child({ component: 'security' });
    this.#now = now;
  }

  /** Logs one event; `path` (if any) has its access_token removed. */
  event(event: SecurityEvent, fields: Fields = {}): void {
    const line: Record<string, unknown> = { security: event };
    for (const [key, value] of Object.entries(fields)) {
      if (value === undefined) continue;
      if (typeof value !== 'string') line[key] = value;
      else line[key] = sanitize(key === 'path' || key === 'url' ? redactUrl(value) : value);
    }
    if (!THROTTLED.has(event)) {
      this.#log.info(line, event);
      return;
    }
    const suppressed = this.#admit(`${event} ${String(fields.ip)}`);
    if (suppressed === undefined) return;
    if (suppressed > 0) line.suppressed = suppressed;
    this.#log.warn(line, event);
  }

  /** undefined: fold this line into the current window; a number: log now (lines folded before). */
  #admit(key: string): number | undefined {
    const now = this.#now();
    const window = this.#windows.get(key);
    if (window !== undefined && now - window.since < THROTTLE_WINDOW_MS) {
      window.suppressed++;
      return undefined;
    }
    const suppressed = window?.suppressed ?? 0;
    this.#windows.delete(key);
    if (this.#windows.size >= MAX_THROTTLE_KEYS) this.#sweep(now);
    this.#windows.set(key, { since: now, suppressed: 0 });
    return suppressed;
  }

  #sweep(now: number): void {
    for (const [key, window] of this.#windows) {
      if (now - window.since >= THROTTLE_WINDOW_MS) this.#windows.delete(key);
    }
    // Still full (a flood from very many addresses): forget the oldest half.
    let excess = this.#windows.size - MAX_THROTTLE_KEYS / 2;
    for (const key of this.#windows.keys()) {
      if (excess-- <= 0) break;
      this.#windows.delete(key);
    }
  }
}
