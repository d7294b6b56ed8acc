// Unit tests for the bounded stdout line decoder: framing across chunks, CRLF, blank lines, the
// final unterminated line, and over-long lines reported once and skipped without being buffered.
import { expect } from 'chai';
import { LineDecoder } from '../../src/jsonrpc/line-decoder.js';

interface Harness {
  decoder: LineDecoder;
  lines: string[];
  overflows: number[];
  /** Largest bufferedBytes seen after any push. */
  maxBuffered: () => number;
  push: (chunk: Buffer | string) => void;
}

function harness(maxLineBytes = 1024): Harness {
  const lines: string[] = [];
  const overflows: number[] = [];
  const decoder = new LineDecoder({
    maxLineBytes,
    onLine: (line) => lines.push(line),
    onOverflow: (bytesSeen) => overflows.push(bytesSeen),
  });
  let maxBuffered = 0;
  return {
    decoder,
    lines,
    overflows,
    maxBuffered: () => maxBuffered,
    push: (chunk) => {
      decoder.push(typeof chunk === 'string' ? Buffer.from(chunk, 'utf8') : chunk);
      maxBuffered = Math.max(maxBuffered, decoder.bufferedBytes);
    },
  };
}

/** Feeds `bytes` in chunks of `size` bytes. */
function feed(h: Harness, bytes: Buffer, size: number): void {
  for (let i = 0; i < bytes.length; i += size) h.push(bytes.subarray(i, i + size));
}

describe('LineDecoder', () => {
  it('rejects a non-positive maxLineBytes', () => {
    const make = (maxLineBytes: number) => () =>
      new LineDecoder({ maxLineBytes, onLine: () => undefined, onOverflow: () => undefined });
    expect(make(0)).to.throw(RangeError);
    expect(make(-1)).to.throw(RangeError);
    expect(make(NaN)).to.throw(RangeError);
  });

  it('delivers one line per newline within a chunk', () => {
    const h = harness();
    h.push('{"a":1}\n{"b":2}\n{"c":3}\n');
    expect(h.lines).to.deep.equal(['{"a":1}', '{"b":2}', '{"c":3}']);
    expect(h.decoder.bufferedBytes).to.equal(0);
  });

  it('joins a line split across chunks', () => {
    const h = harness();
    h.push('{"jsonrpc":');
    expect(h.lines).to.deep.equal([]);
    expect(h.decoder.bufferedBytes).to.equal(11);
    h.push('"2.0","id"');
    h.push(':1}\n{"next"');
    expect(h.lines).to.deep.equal(['{"jsonrpc":"2.0","id":1}']);
    h.push(':true}\n');
    expect(h.lines).to.deep.equal(['{"jsonrpc":"2.0","id":1}', '{"next":true}']);
    expect(h.decoder.bufferedBytes).to.equal(0);
  });

  it('reassembles lines fed byte by byte, multi-byte UTF-8 characters included', () => {
    const text = '{"text":"héllo — 日本語 🎉"}\n{"b":"ü"}\r\n';
    const h = harness();
    feed(h, Buffer.from(text, 'utf8'), 1);
    expect(h.lines).to.deep.equal(['{"text":"héllo — 日本語 🎉"}', '{"b":"ü"}']);
    expect(h.overflows).to.deep.equal([]);
  });

  it('decodes a multi-byte character split between two chunks', () => {
    const bytes = Buffer.from('ab🎉cd\n', 'utf8'); // 🎉 is 4 bytes at offsets 2..5
    for (const cut of [3, 4, 5]) {
      const h = harness();
      h.push(bytes.subarray(0, cut));
      h.push(bytes.subarray(cut));
      expect(h.lines, `cut at ${cut}`).to.deep.equal(['ab🎉cd']);
    }
  });

  it('strips CR before LF', () => {
    const h = harness();
    h.push('{"a":1}\r\n{"b":2}\r');
    h.push('\n');
    expect(h.lines).to.deep.equal(['{"a":1}', '{"b":2}']);
  });

  it('skips blank and whitespace-only lines', () => {
    const h = harness();
    h.push('\n\r\n   \n\t\n{"a":1}\n\n');
    h.push('\n{"b":2}\n');
    expect(h.lines).to.deep.equal(['{"a":1}', '{"b":2}']);
  });

  it('delivers a final line without a newline on end()', () => {
    const h = harness();
    h.push('{"a":1}\n{"last"');
    h.push(':true}');
    expect(h.lines).to.deep.equal(['{"a":1}']);
    h.decoder.end();
    expect(h.lines).to.deep.equal(['{"a":1}', '{"last":true}']);
    expect(h.decoder.bufferedBytes).to.equal(0);
  });

  it('strips CR from a final line delivered on end()', () => {
    const h = harness();
    h.push('{"last":true}\r');
    h.decoder.end();
    expect(h.lines).to.deep.equal(['{"last":true}']);
  });

  it('end() with nothing held delivers nothing', () => {
    const h = harness();
    h.push('{"a":1}\n');
    h.decoder.end();
    h.decoder.end();
    expect(h.lines).to.deep.equal(['{"a":1}']);
  });

  it('accepts a line of exactly maxLineBytes', () => {
    const h = harness(10);
    h.push('0123456789\n');
    h.push('01234');
    h.push('56789\n');
    expect(h.lines).to.deep.equal(['0123456789', '0123456789']);
    expect(h.overflows).to.deep.equal([]);
  });

  it('reports an over-long line once and skips it when it ends in the same chunk', () => {
    const h = harness(16);
    const long = 'x'.repeat(40);
    h.push(`{"a":1}\n${long}\n{"b":2}\n`);
    expect(h.lines).to.deep.equal(['{"a":1}', '{"b":2}']);
    expect(h.overflows).to.have.length(1);
    expect(h.overflows[0]).to.be.greaterThan(16);
  });

  it('reports an over-long line once when a held prefix plus the final chunk passes the limit', () => {
    const h = harness(16);
    h.push('y'.repeat(10));
    h.push(`${'y'.repeat(10)}\n{"b":2}\n`);
    expect(h.overflows).to.have.length(1);
    expect(h.lines).to.deep.equal(['{"b":2}']);
    expect(h.decoder.bufferedBytes).to.equal(0);
  });

  it('reports an over-long line spanning many chunks once, never buffers past the limit, and recovers', () => {
    const h = harness(64);
    h.push('{"before":1}\n');
    for (let i = 0; i < 100; i++) {
      h.push('z'.repeat(37));
      expect(h.decoder.bufferedBytes).to.be.at.most(64);
    }
    h.push(`${'z'.repeat(5)}\n{"after":2}\n`);
    expect(h.overflows).to.have.length(1);
    expect(h.lines).to.deep.equal(['{"before":1}', '{"after":2}']);
    expect(h.maxBuffered()).to.be.at.most(64);
    expect(h.decoder.bufferedBytes).to.equal(0);
  });

  it('handles an over-long line fed byte by byte, with the next line intact', () => {
    const h = harness(8);
    const text = `${'w'.repeat(50)}\n{"ok":1}\n${'v'.repeat(9)}\r\n{"ok":2}\n`;
    feed(h, Buffer.from(text, 'utf8'), 1);
    expect(h.lines).to.deep.equal(['{"ok":1}', '{"ok":2}']);
    expect(h.overflows).to.have.length(2);
    expect(h.maxBuffered()).to.be.at.most(8);
  });

  it('reports each of two consecutive over-long lines', () => {
    const h = harness(8);
    h.push(`${'a'.repeat(20)}\n${'b'.repeat(20)}\nok\n`);
    expect(h.overflows).to.have.length(2);
    expect(h.lines).to.deep.equal(['ok']);
  });

  it('drops an unterminated over-long line on end() and starts clean afterwards', () => {
    const h = harness(8);
    h.push('c'.repeat(20));
    h.decoder.end();
    expect(h.lines).to.deep.equal([]);
    expect(h.overflows).to.have.length(1);
    h.push('fresh\n');
    expect(h.lines).to.deep.equal(['fresh']);
  });

  it('keeps bufferedBytes within maxLineBytes for random chunkings', () => {
    // Deterministic pseudo-random chunk sizes (no Math.random: failures must reproduce).
    let seed = 12345;
    const next = () => {
      seed = (seed * 1103515245 + 12345) % 2 ** 31;
      return seed;
    };
    const max = 32;
    const parts: string[] = [];
    const expected: string[] = [];
    let overflowsExpected = 0;
    for (let i = 0; i < 200; i++) {
      const len = 1 + (next() % 60);
      const line = `L${i}:${'é'.repeat(len)}`;
      parts.push(line);
      if (Buffer.byteLength(line) > max) overflowsExpected++;
      else expected.push(line);
    }
    const bytes = Buffer.from(`${parts.join('\n')}\n`, 'utf8');
    const h = harness(max);
    let i = 0;
    while (i < bytes.length) {
      const size = 1 + (next() % 50);
      h.push(bytes.subarray(i, i + size));
      expect(h.decoder.bufferedBytes).to.be.at.most(max);
      i += size;
    }
    expect(h.lines).to.deep.equal(expected);
    expect(h.overflows).to.have.length(overflowsExpected);
    expect(h.maxBuffered()).to.be.at.most(max);
  });
});
