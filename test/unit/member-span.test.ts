// The raw text of a /ws envelope's `message` is what reaches the server (docs/protocol.md,
// "Bytes"): memberSpan must find exactly the value JSON.parse would keep, whatever the text holds.
import { expect } from 'chai';
import fc from 'fast-check';
import { memberSpan, oneLine } from '../../src/channel/member-span.js';
import { parseEnvelope, isEnvelopeError } from '../../src/channel/envelope.js';

function raw(text: string, name = 'message'): string | undefined {
  const span = memberSpan(text, name);
  return span === undefined ? undefined : text.slice(span[0], span[1]);
}

describe('memberSpan', () => {
  it('keeps the bytes JSON.parse would lose (big integers, 1.0, -0, escapes, duplicate keys)', () => {
    const inner = [
      '{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"arguments":',
      '{"big":12345678901234567890,"f":1.0,"z":-0,"e":"\\u00e9","d":1,"d":2,"x":1e400}}}',
    ].join('');
    const text = `{"type":"message","channel":"c1","message":${inner}}`;
    expect(raw(text)).to.equal(inner);
  });

  it('finds the member wherever it is, with white space, strings holding brackets and quotes', () => {
    const inner = '{ "a" : [ "]}\\"{[" , {"b":"\\\\"} ] , "c":"\\\\\\"" }';
    const texts = [
      ` { "message" : ${inner} , "type":"message","channel":"c"} `,
      `{"type":"message",\n"message":\t${inner}\n,"channel":"}{"}`,
      `{"channel":"\\"message\\"","message":${inner}}`,
    ];
    for (const text of texts) expect(raw(text), text).to.equal(inner);
  });

  it('takes the last of repeated members, as JSON.parse does, and unescapes names', () => {
    expect(raw('{"message":1,"message":[2]}')).to.equal('[2]');
    expect(raw('{"mess\\u0061ge":"x","type":1}')).to.equal('"x"');
    expect(raw('{"type":1}')).to.equal(undefined);
    expect(raw('{}')).to.equal(undefined);
  });

  it('finds scalar values', () => {
    for (const v of ['0', '-0.5e-3', 'true', 'false', 'null', '"s"', '[]', '{}']) {
      expect(raw(`{"message":${v}}`)).to.equal(v);
      expect(raw(`{"message": ${v} ,"x":1}`)).to.equal(v);
    }
  });

  it('agrees with JSON.parse on any JSON value', () => {
    fc.assert(
      fc.property(fc.jsonValue(), fc.jsonValue(), (before, message) => {
        const inner = JSON.stringify(message, null, 1) ?? 'null';
        const text = `{"before":${JSON.stringify(before)},"message":${inner},"after":0}`;
        expect(JSON.parse(raw(text)!)).to.deep.equal(JSON.parse(inner));
        expect(raw(text)).to.equal(inner);
      }),
      { numRuns: 300 },
    );
  });
});

describe('oneLine', () => {
  it('turns the white-space newlines of JSON text into spaces, keeping every token', () => {
    const text = '{\r\n "n": 12345678901234567890,\n "s": "a\\nb"\n}';
    const line = oneLine(text);
    expect(line).to.equal('{   "n": 12345678901234567890,  "s": "a\\nb" }');
    expect(line).to.not.match(/[\r\n]/);
    expect(oneLine('{"a":1}')).to.equal('{"a":1}');
  });
});

describe('parseEnvelope message text', () => {
  it('is the raw inner message on one line', () => {
    const text =
      '{"type":"message","channel":"c","message":{"jsonrpc":"2.0",\n"id":1.0,"method":"m"}}';
    const env = parseEnvelope(text);
    if (isEnvelopeError(env) || env.type !== 'message') throw new Error('expected a message');
    expect(env.text).to.equal('{"jsonrpc":"2.0", "id":1.0,"method":"m"}');
  });
});
