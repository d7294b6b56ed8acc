// PURE: parses rate-limit strings in flask-limiter's notation (the SignalWire gateway's
// `rate_limiting` keys), so a gateway config means the same limits here. Accepted grammar
// (case-insensitive, spaces optional around the parts; documented in docs/operations.md):
//
//   limits := limit ( (";" | "," | "|") limit )*          empty parts are skipped
//   limit  := COUNT ( "/" | "per" ) [ N ] UNIT [ "s" ]     e.g. "10 per minute", "100/hour",
//   UNIT   := second | minute | hour | day | month | year       "5 per 2 seconds", "1/3days"
//
// COUNT and N are positive integers (N defaults to 1). A month is 30 days and a year 360, as in
// flask-limiter's `limits` package. A list of strings (default_limits) is the union of its parts.

/** One limit: at most `count` requests per `windowMs`. */
export interface FlaskLimit {
  readonly count: number;
  readonly windowMs: number;
  /** Normalised text, e.g. "10 per 1 minute". */
  readonly text: string;
}

const UNIT_MS: Readonly<Record<string, number>> = {
  second: 1000,
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
  month: 30 * 86_400_000,
  year: 360 * 86_400_000,
};

const SINGLE = /^\s*(\d+)\s*(?:\/|per)\s*(\d+)?\s*(second|minute|hour|day|month|year)s?\s*$/i;
const SEPARATOR = /[;,|]/;
/** Bounds that keep arithmetic exact and a window sensible. */
const MAX_COUNT = 1_000_000_000;
const MAX_MULTIPLIER = 1_000_000;

export type ParsedLimits = { ok: true; limits: FlaskLimit[] } | { ok: false; error: string };

/** Parses one limit ("10 per minute"); undefined when it is not one. */
export function parseLimit(text: string): FlaskLimit | undefined {
  const m = SINGLE.exec(text);
  if (m === null) return undefined;
  const count = Number(m[1]);
  const multiplier = m[2] === undefined ? 1 : Number(m[2]);
  const unit = m[3]!.toLowerCase();
  if (count < 1 || count > MAX_COUNT || multiplier < 1 || multiplier > MAX_MULTIPLIER) {
    return undefined;
  }
  return {
    count,
    windowMs: multiplier * UNIT_MS[unit]!,
    text: `${count} per ${multiplier} ${unit}`,
  };
}

/**
 * Parses a string of limits separated by `;` `,` `|`, or a list of such strings. An empty string
 * or list is no limit at all (`limits: []`).
 */
export function parseLimits(value: string | readonly string[]): ParsedLimits {
  const parts = (typeof value === 'string' ? [value] : value).flatMap((s) => s.split(SEPARATOR));
  const limits: FlaskLimit[] = [];
  for (const part of parts) {
    if (part.trim() === '') continue;
    const limit = parseLimit(part);
    if (limit === undefined) {
      return {
        ok: false,
        error: `${JSON.stringify(part.trim())} is not a limit like "10 per minute" or "100/hour"`,
      };
    }
    limits.push(limit);
  }
  return { ok: true, limits };
}
