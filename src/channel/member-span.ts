// Locates the raw text of one member of a JSON object, so that /ws can forward the inner message
// of an envelope byte for byte (docs/protocol.md, "Bytes"). PURE. It runs only on text that
// JSON.parse has already accepted, so it checks nothing: it skips strings (with their escapes)
// and counts brackets outside them. No recursion: any depth costs one counter.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** `i` is at an opening quote: the index just past the closing one. */
function skipString(text: string, i: number): number {
  let q = i;
  for (;;) {
    q = text.indexOf('"', q + 1);
    if (q < 0) return text.length; // not reached on parsed text
    let backslashes = 0;
    while (text.charCodeAt(q - 1 - backslashes) === BACKSLASH) backslashes++;
    if (backslashes % 2 === 0) return q + 1;
  }
}

/** `i` is at the first character of a value: the index just past it. */
function skipValue(text: string, i: number): number {
  const c = text.charCodeAt(i);
  if (c === QUOTE) return skipString(text, i);
  if (c !== OPEN_BRACE && c !== OPEN_BRACKET) {
    // A number, true, false or null: it ends at a comma, a closing bracket or white space.
    let j = i + 1;
    for (; j < text.length; j++) {
      const d = text.charCodeAt(j);
      if (d === COMMA || d === CLOSE_BRACE || d === CLOSE_BRACKET || isSpace(d)) break;
    }
    return j;
  }
  let depth = 0;
  let j = i;
  while (j < text.length) {
    const d = text.charCodeAt(j);
    if (d === QUOTE) {
      j = skipString(text, j);
      continue;
    }
    j++;
    if (d === OPEN_BRACE || d === OPEN_BRACKET) depth++;
    else if ((d === CLOSE_BRACE || d === CLOSE_BRACKET) && --depth === 0) return j;
  }
  return j; // not reached on parsed text
}

/** True when the member name at [start, end) (quotes included) is `name`, escapes undone. */
function isName(text: string, start: number, end: number, name: string): boolean {
  if (end - start - 2 === name.length && text.startsWith(name, start + 1)) return true;
  const raw = text.slice(start + 1, end - 1);
  return raw.includes('\\') && JSON.parse(text.slice(start, end)) === name;
}

/**
 * The [start, end) span of the value of member `name` in `text`, a JSON object that JSON.parse
 * accepted; the last one when the name repeats (JSON.parse keeps the last too); undefined when
 * there is none. Names are compared after unescaping (`"mess\u0061ge"` is `message`).
 */
export function memberSpan(text: string, name: string): [number, number] | undefined {
  let span: [number, number] | undefined;
  let i = skipSpace(text, 0) + 1; // past '{'
  for (;;) {
    i = skipSpace(text, i);
    if (text.charCodeAt(i) !== QUOTE) return span; // '}' of an empty object
    const nameEnd = skipString(text, i);
    const wanted = isName(text, i, nameEnd, name);
    i = skipSpace(text, nameEnd) + 1; // past ':'
    i = skipSpace(text, i);
    const valueEnd = skipValue(text, i);
    if (wanted) span = [i, valueEnd];
    i = skipSpace(text, valueEnd);
    if (text.charCodeAt(i) !== COMMA) return span;
    i++;
  }
}

/**
 * `text` as one line for a stdio server. JSON text can hold a raw CR or LF only as white space
 * between tokens (inside a string they must be escaped), so each becomes a space: the tokens, and
 * so the value and every number's digits, are kept exactly.
 */
export function oneLine(text: string): string {
  return text.includes('\n') || text.includes('\r') ? text.replace(/[\r\n]/g, ' ') : text;
}
