// Value formats of the config schema: what each accepts (check → the expectation an error names),
// how a string is converted to it (coerce: file strings after ${VAR} substitution, and env vars),
// and how the docs name it. Registered with convict under prefixed names at import.
import convict from 'convict';
import { parseLimits } from '../util/flask-limits.js';

export type FormatName =
  | 'mcpmux-string'
  | 'mcpmux-int'
  | 'mcpmux-seconds'
  | 'mcpmux-boolean'
  | 'mcpmux-log-level'
  | 'mcpmux-string-list'
  | 'mcpmux-command'
  | 'mcpmux-string-map'
  | 'mcpmux-rate-limits'
  | 'mcpmux-ended-sessions'
  | 'mcpmux-choice'
  | 'mcpmux-binds';

/** One configuration key. The extra fields (min, max, …) are read by our formats and the docs. */
export interface LeafSpec {
  readonly doc: string;
  readonly format: FormatName;
  readonly default: unknown;
  readonly env?: string;
  readonly sensitive?: boolean;
  readonly nullable?: boolean;
  /** Inclusive bounds for numeric formats. */
  readonly min?: number;
  readonly max?: number;
  /** Exclusive lower bound for numeric formats (a value must be greater). */
  readonly above?: number;
  /** For mcpmux-string: '' is refused. */
  readonly nonEmpty?: boolean;
  /** A file system path: when relative, the loader resolves it against the working directory. */
  readonly isPath?: boolean;
  /** For mcpmux-choice: the accepted values. */
  readonly choices?: readonly string[];
  /** How the docs show a default the loader computes (e.g. from another key). */
  readonly docDefault?: string;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
/** Python logging names used by SignalWire configs. */
const LOG_LEVEL_ALIASES: Readonly<Record<string, string>> = { warning: 'warn', critical: 'fatal' };

interface FormatDef {
  /** Shown in the docs' type column. */
  readonly type: string;
  /** undefined when valid, else what the value must be ("an integer"). */
  check(value: unknown, spec: LeafSpec): string | undefined;
  /** Converts a string (from the file after substitution, or from the environment). */
  coerce?(text: string): unknown;
}

/** A sandbox bind: an absolute path without ':' and an optional mode. */
export const BIND_PATTERN = /^\/[^:]*(:(ro|rw))?$/;

const isRecord = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

function checkNumber(value: unknown, spec: LeafSpec, what: string): string | undefined {
  if (typeof value !== 'number' || !Number.isFinite(value)) return what;
  if (what === 'an integer' && !Number.isInteger(value)) return what;
  if (spec.min !== undefined && spec.max !== undefined && (value < spec.min || value > spec.max))
    return `${what} from ${spec.min} to ${spec.max}`;
  if (spec.min !== undefined && value < spec.min) return `${what} >= ${spec.min}`;
  if (spec.above !== undefined && value <= spec.above) return `${what} > ${spec.above}`;
  return undefined;
}

function checkRateLimits(v: unknown): string | undefined {
  const isText =
    typeof v === 'string' || (Array.isArray(v) && v.every((x) => typeof x === 'string'));
  if (!isText) return 'a flask-limiter string or a list of them ("10 per minute")';
  const parsed = parseLimits(v);
  return parsed.ok ? undefined : `flask-limiter limits: ${parsed.error}`;
}

const numberPattern = /^[+-]?(\d+\.?\d*|\.\d+)(e[+-]?\d+)?$/i;
const toNumber = (text: string): unknown =>
  numberPattern.test(text.trim()) ? Number(text.trim()) : text;
const BOOLEAN_WORDS: Readonly<Record<string, boolean>> = {
  ...{ true: true, yes: true, on: true, '1': true },
  ...{ false: false, no: false, off: false, '0': false },
};

export const FORMATS: Readonly<Record<FormatName, FormatDef>> = {
  'mcpmux-string': {
    type: 'string',
    check: (v, s) =>
      typeof v !== 'string'
        ? 'a string'
        : s.nonEmpty && v === ''
          ? 'a non-empty string'
          : undefined,
  },
  'mcpmux-int': {
    type: 'integer',
    check: (v, s) => checkNumber(v, s, 'an integer'),
    coerce: (t) => (/^\s*[+-]?\d+\s*$/.test(t) ? Number(t) : t),
  },
  'mcpmux-seconds': {
    type: 'number (seconds)',
    check: (v, s) => checkNumber(v, s, 'a number of seconds'),
    coerce: toNumber,
  },
  'mcpmux-boolean': {
    type: 'boolean',
    check: (v) => (typeof v === 'boolean' ? undefined : 'true or false'),
    coerce: (t) => BOOLEAN_WORDS[t.trim().toLowerCase()] ?? t,
  },
  'mcpmux-log-level': {
    type: LOG_LEVELS.join(' | '),
    check: (v) =>
      (LOG_LEVELS as readonly unknown[]).includes(v)
        ? undefined
        : `one of ${LOG_LEVELS.join(', ')}`,
    coerce: (t) => {
      const level = t.trim().toLowerCase();
      return LOG_LEVEL_ALIASES[level] ?? level;
    },
  },
  'mcpmux-string-list': {
    type: 'string[]',
    check: (v) =>
      Array.isArray(v) && v.every((x) => typeof x === 'string') ? undefined : 'an array of strings',
    coerce: (t) =>
      t
        .split(',')
        .map((x) => x.trim())
        .filter((x) => x !== ''),
  },
  'mcpmux-command': {
    type: 'string[] (argv)',
    check: (v) =>
      Array.isArray(v) && v.length > 0 && v.every((x) => typeof x === 'string' && x !== '')
        ? undefined
        : 'a non-empty array of non-empty strings',
  },
  'mcpmux-string-map': {
    type: 'object of strings',
    check: (v) =>
      isRecord(v) && Object.values(v).every((x) => typeof x === 'string')
        ? undefined
        : 'an object whose values are strings',
  },
  'mcpmux-rate-limits': {
    type: 'flask-limiter string(s)',
    check: checkRateLimits,
  },
  'mcpmux-ended-sessions': {
    type: '"restart" | "report"',
    check: (v) => (v === 'restart' || v === 'report' ? undefined : '"restart" or "report"'),
    coerce: (t) => t.trim().toLowerCase(),
  },
  'mcpmux-choice': {
    type: 'string (one of)',
    check: (v, s) =>
      typeof v === 'string' && (s.choices ?? []).includes(v)
        ? undefined
        : `one of ${(s.choices ?? []).join(', ')}`,
  },
  'mcpmux-binds': {
    type: 'string[] (PATH or PATH:rw)',
    check: (v) =>
      Array.isArray(v) && v.every((x) => typeof x === 'string' && BIND_PATTERN.test(x))
        ? undefined
        : 'an array of absolute paths, each optionally ending in :ro or :rw',
  },
};

/** undefined when `value` is valid for `spec`, else the expectation ("an integer >= 1"). */
export function checkLeaf(spec: LeafSpec, value: unknown): string | undefined {
  if (spec.nullable && value === null) return undefined;
  return FORMATS[spec.format].check(value, spec);
}

// Convict keeps a global format registry; the names are prefixed so they cannot collide.
convict.addFormats(
  Object.fromEntries(
    Object.entries(FORMATS).map(([name, def]) => {
      const format: convict.Format = {
        validate(value: unknown, schema: convict.SchemaObj) {
          const expected = checkLeaf(schema as unknown as LeafSpec, value);
          if (expected !== undefined) throw new Error(`must be ${expected}`);
        },
      };
      if (def.coerce) format.coerce = (value: unknown) => def.coerce!(String(value));
      return [name, format];
    }),
  ),
);
