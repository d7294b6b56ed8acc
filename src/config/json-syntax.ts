// PURE: JSON parsing that reports where a syntax error is (line, column, offset). Node 20's
// JSON.parse messages carry the position only for some errors, so on failure the text is scanned
// again by a small validating scanner that stops at the first offending character.

export interface JsonSyntaxIssue {
  /** 0-based character offset of the offending character (text.length at end of input). */
  readonly offset: number;
  /** 1-based. */
  readonly line: number;
  /** 1-based. */
  readonly column: number;
  readonly reason: string;
}

export type JsonParseResult =
  | { readonly ok: true; readonly value: unknown }
  | { readonly ok: false; readonly issue: JsonSyntaxIssue };

class Stop extends Error {
  constructor(readonly offset: number) {
    super('json syntax');
  }
}

const WHITESPACE = new Set([' ', '\t', '\n', '\r']);
const ESCAPES = new Set(['"', '\\', '/', 'b', 'f', 'n', 'r', 't']);
const LITERAL = /-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?|true|false|null/y;

/** Offset of the first syntax error in `text`, or -1 when it is valid JSON. */
export function findJsonSyntaxError(text: string): number {
  let i = 0;
  const fail = (): never => {
    throw new Stop(i);
  };
  const skipSpace = (): void => {
    while (i < text.length && WHITESPACE.has(text[i]!)) i++;
  };
  const expect = (char: string): void => {
    skipSpace();
    if (text[i] !== char) fail();
    i++;
  };
  const string = (): void => {
    expect('"');
    for (;;) {
      const c = text[i];
      if (c === undefined || c < ' ') fail();
      i++;
      if (c === '"') return;
      if (c === '\\') {
        if (text[i] === 'u' && /^[0-9a-fA-F]{4}$/.test(text.slice(i + 1, i + 5))) i += 5;
        else if (ESCAPES.has(text[i] ?? '')) i++;
        else fail();
      }
    }
  };
  const list = (close: string, item: () => void): void => {
    i++;
    skipSpace();
    if (text[i] === close) {
      i++;
      return;
    }
    for (;;) {
      item();
      skipSpace();
      if (text[i] === close) {
        i++;
        return;
      }
      expect(',');
    }
  };
  const value = (): void => {
    skipSpace();
    const c = text[i];
    if (c === '{') {
      list('}', () => {
        string();
        expect(':');
        value();
      });
    } else if (c === '[') list(']', value);
    else if (c === '"') string();
    else {
      LITERAL.lastIndex = i;
      if (!LITERAL.test(text)) fail();
      i = LITERAL.lastIndex;
    }
  };
  try {
    value();
    skipSpace();
    if (i < text.length) fail();
    return -1;
  } catch (err) {
    if (err instanceof Stop) return err.offset;
    throw err;
  }
}

/** JSON.parse with a located error instead of an exception. A leading BOM is ignored. */
export function parseJson(source: string): JsonParseResult {
  const text = source.startsWith('\uFEFF') ? source.slice(1) : source;
  try {
    return { ok: true, value: JSON.parse(text) as unknown };
  } catch (err) {
    const found = findJsonSyntaxError(text);
    const offset = found < 0 ? 0 : found;
    const before = text.slice(0, offset);
    const line = before.split('\n').length;
    const column = offset - before.lastIndexOf('\n');
    const reason =
      found < 0
        ? (err as Error).message
        : offset >= text.length
          ? 'unexpected end of input'
          : `unexpected ${JSON.stringify(text[offset])}`;
    return { ok: false, issue: { offset, line, column, reason } };
  }
}
