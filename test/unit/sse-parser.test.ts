import { expect } from 'chai';
import fc from 'fast-check';
import { SseParser, SseTooLarge, type SseEvent } from '../../src/loadtest/sse.js';

function parseAll(chunks: string[], maxChars = 1 << 20): SseEvent[] {
  const parser = new SseParser(maxChars);
  return chunks.flatMap((c) => parser.push(c));
}

describe('SSE parser (loadtest --mode http)', () => {
  it('parses the events a Streamable HTTP server sends', () => {
    const text =
      'event: message\ndata: {"jsonrpc":"2.0","id":1,"result":{}}\n\n' +
      'id: 7\ndata: {"jsonrpc":"2.0","method":"notifications/progress"}\n\n';
    expect(parseAll([text])).to.deep.equal([
      { event: 'message', data: '{"jsonrpc":"2.0","id":1,"result":{}}' },
      { event: 'message', data: '{"jsonrpc":"2.0","method":"notifications/progress"}', id: '7' },
    ]);
  });

  it('joins data lines, drops comments and unknown fields, takes retry when numeric', () => {
    const text = ': keep-alive\nfoo: bar\ndata: a\ndata:b\ndata\nretry: 1500\nevent: x\n\n';
    expect(parseAll([text])).to.deep.equal([{ event: 'x', data: 'a\nb\n', retry: 1500 }]);
    expect(parseAll(['retry: 1.5\ndata: z\n\n'])).to.deep.equal([{ event: 'message', data: 'z' }]);
  });

  it('removes one leading space of a value only, and a BOM at the start of the stream', () => {
    expect(parseAll(['\ufeffdata:  two spaces\n\n'])).to.deep.equal([
      { event: 'message', data: ' two spaces' },
    ]);
  });

  it('dispatches nothing for an event without data (a priming id alone), nor an unfinished one', () => {
    expect(parseAll(['id: 1\n\n', 'data: pending\n'])).to.deep.equal([]);
    // the empty data field of the 2025-11-25 priming event is data: an event with data ""
    expect(parseAll(['id: 1\ndata:\n\n'])).to.deep.equal([{ event: 'message', data: '', id: '1' }]);
  });

  it('accepts CRLF, LF and CR line ends, also a CRLF split between chunks', () => {
    const expected = [
      { event: 'message', data: 'one' },
      { event: 'message', data: 'two' },
      { event: 'message', data: 'three' },
    ];
    expect(parseAll(['data: one\r\n\r\ndata: two\n\ndata: three\r\r'])).to.deep.equal(expected);
    expect(
      parseAll(['data: one\r', '\n\r', '\ndata: two\n', '\ndata: three\r', '\r']),
    ).to.deep.equal(expected);
  });

  it('gives the same events however the stream is cut into chunks', () => {
    const line = fc.stringMatching(/^[^\r\n]{0,12}$/);
    const event = fc.record({
      data: fc.array(line, { minLength: 1, maxLength: 3 }),
      id: fc.option(fc.stringMatching(/^[a-z0-9]{1,5}$/), { nil: undefined }),
      eol: fc.constantFrom('\n', '\r\n', '\r'),
    });
    fc.assert(
      fc.property(
        fc.array(event, { maxLength: 6 }),
        fc.array(fc.nat(), { maxLength: 8 }),
        (events, cuts) => {
          const text = events
            .map(
              ({ data, id, eol }) =>
                (id === undefined ? '' : `id: ${id}${eol}`) +
                data.map((d) => `data: ${d}${eol}`).join('') +
                eol,
            )
            .join('');
          const whole = parseAll([text]);
          const points = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
          const chunks: string[] = [];
          let at = 0;
          for (const p of points) {
            chunks.push(text.slice(at, p));
            at = p;
          }
          chunks.push(text.slice(at));
          expect(parseAll(chunks)).to.deep.equal(whole);
          expect(whole.map((e) => e.data)).to.deep.equal(events.map((e) => e.data.join('\n')));
        },
      ),
    );
  });

  it('bounds what one event may hold: a long line or long data throws SseTooLarge', () => {
    expect(() => parseAll(['data: ' + 'x'.repeat(200)], 100)).to.throw(SseTooLarge);
    expect(() => parseAll(['data: xxxxxxxxxx\n'.repeat(20)], 100)).to.throw(SseTooLarge);
    // the bound is per event: many small events pass
    expect(parseAll(['data: xxxxxxxxxx\n\n'.repeat(50)], 100)).to.have.length(50);
  });
});
