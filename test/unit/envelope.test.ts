// Unit tests for the mcpmux.v1 envelope codec (SPEC §5.2): which client frames are envelopes, why
// the others are not, and how relay envelopes are built without re-serialising JSON-RPC lines.
import { expect } from 'chai';
import {
  MUX_SUBPROTOCOL,
  closedEnvelope,
  errorEnvelope,
  isEnvelopeError,
  messageEnvelope,
  messagePrefix,
  openedEnvelope,
  parseEnvelope,
  type ClientEnvelope,
  type EnvelopeError,
} from '../../src/channel/envelope.js';

const UUID = '0b9e4c1a-7d2f-4e8a-9c3b-5f6a7b8c9d0e';
const TOKEN = 'relay-1.q2v8yWmC0n4H3XJ0d8m0aP1sE9bQk7uVfT6rZ5yL4wA';

function parsed(text: string): ClientEnvelope {
  const env = parseEnvelope(text);
  if (isEnvelopeError(env)) throw new Error(`expected an envelope, got: ${env.detail}`);
  return env;
}

function rejected(text: string): EnvelopeError {
  const env = parseEnvelope(text);
  if (!isEnvelopeError(env)) throw new Error(`expected an error, got ${JSON.stringify(env)}`);
  expect(env.kind).to.equal('bad_envelope');
  expect(env.detail).to.be.a('string').and.not.equal('');
  return env;
}

describe('envelope', () => {
  it('names the subprotocol mcpmux.v1', () => {
    expect(MUX_SUBPROTOCOL).to.equal('mcpmux.v1');
  });

  describe('parseEnvelope accepts', () => {
    it('an open envelope', () => {
      expect(parsed('{"type":"open","channel":"c1","service":"todo"}')).to.deep.equal({
        type: 'open',
        channel: 'c1',
        service: 'todo',
      });
    });

    it('an open envelope that resumes with a resume token', () => {
      const text = JSON.stringify({ type: 'open', channel: 'c1', service: 'todo', resume: TOKEN });
      expect(parsed(text)).to.deep.equal({
        type: 'open',
        channel: 'c1',
        service: 'todo',
        resume: TOKEN,
      });
    });

    it('an open envelope that resumes with a replay mode (now, hold)', () => {
      for (const replay of ['now', 'hold']) {
        const env = { type: 'open', channel: 'c1', service: 'todo', resume: TOKEN, replay };
        expect(parsed(JSON.stringify(env))).to.deep.equal(env);
      }
    });

    it('a message envelope, leaving the message as a parsed value', () => {
      const env = parsed(
        '{"type":"message","channel":"c1","message":{"jsonrpc":"2.0","id":0,"method":"ping"}}',
      );
      expect(env).to.deep.equal({
        type: 'message',
        channel: 'c1',
        message: { jsonrpc: '2.0', id: 0, method: 'ping' },
        text: '{"jsonrpc":"2.0","id":0,"method":"ping"}',
      });
    });

    it('a message envelope whose message is not JSON-RPC (validated elsewhere)', () => {
      for (const message of [null, 0, 'x', [], [1, 2], false]) {
        const text = JSON.stringify(message);
        const env = parsed(JSON.stringify({ type: 'message', channel: 'c', message }));
        expect(env).to.deep.equal({ type: 'message', channel: 'c', message, text });
      }
    });

    it('a close envelope', () => {
      expect(parsed('{"type":"close","channel":"c1"}')).to.deep.equal({
        type: 'close',
        channel: 'c1',
      });
    });

    it('members in any order and with whitespace', () => {
      expect(
        parsed(' {\n "channel" : "c1",\n "service": "todo", "type": "open" }\n'),
      ).to.deep.equal({
        type: 'open',
        channel: 'c1',
        service: 'todo',
      });
    });

    it('channel names of 1 and 128 characters, with quotes and unicode', () => {
      for (const channel of ['a', 'x'.repeat(128), 'say "hi"\\', 'канал-😀', ' ']) {
        expect(parsed(JSON.stringify({ type: 'close', channel }))).to.deep.equal({
          type: 'close',
          channel,
        });
      }
    });
  });

  describe('parseEnvelope rejects', () => {
    it('text that is not JSON, without a channel', () => {
      for (const text of ['', 'not json', '{"type":"open",', '{"type":"close","channel":"c1"} x']) {
        expect(rejected(text)).to.not.have.property('channel');
      }
    });

    it('JSON that is not an object', () => {
      for (const text of [
        '[]',
        '[{"type":"close","channel":"c1"}]',
        'null',
        '"open"',
        '42',
        'true',
      ]) {
        expect(rejected(text)).to.not.have.property('channel');
      }
    });

    it('a missing type, naming the channel', () => {
      expect(rejected('{"channel":"c1","service":"todo"}')).to.have.property('channel', 'c1');
    });

    it('an unknown type, naming the channel', () => {
      for (const type of ['opened', 'closed', 'error', 'OPEN', '', 1, null, {}]) {
        const env = rejected(JSON.stringify({ type, channel: 'c1' }));
        expect(env, JSON.stringify(type)).to.have.property('channel', 'c1');
      }
    });

    it('a missing channel', () => {
      expect(rejected('{"type":"close"}')).to.not.have.property('channel');
      expect(rejected('{"type":"open","service":"todo"}').detail).to.match(/channel/);
    });

    it('an empty channel', () => {
      expect(rejected('{"type":"close","channel":""}')).to.not.have.property('channel');
    });

    it('a channel longer than 128 characters', () => {
      const env = rejected(JSON.stringify({ type: 'close', channel: 'x'.repeat(129) }));
      expect(env).to.not.have.property('channel');
      expect(env.detail).to.match(/128/);
    });

    it('a channel that is not a string', () => {
      for (const channel of [1, null, true, ['c1'], { name: 'c1' }]) {
        const env = rejected(JSON.stringify({ type: 'close', channel }));
        expect(env.detail).to.match(/channel must be a string/);
        expect(env).to.not.have.property('channel');
      }
    });

    it('an open without a service, or with an empty or non-string one', () => {
      for (const service of [undefined, '', 7, null]) {
        const env = rejected(JSON.stringify({ type: 'open', channel: 'c1', service }));
        expect(env.detail).to.match(/service/);
        expect(env).to.have.property('channel', 'c1');
      }
    });

    it('an open whose resume is not a token string', () => {
      for (const resume of ['', 'x'.repeat(257), 42, null, {}]) {
        const env = rejected(JSON.stringify({ type: 'open', channel: 'c1', service: 't', resume }));
        expect(env.detail).to.match(/resume/);
        expect(env).to.have.property('channel', 'c1');
      }
    });

    it('an open whose replay is not "now" or "hold"', () => {
      for (const replay of ['', 'NOW', 'later', true, 1, null]) {
        const text = JSON.stringify({
          type: 'open',
          channel: 'c1',
          service: 't',
          resume: TOKEN,
          replay,
        });
        const env = rejected(text);
        expect(env.detail).to.match(/replay/);
        expect(env).to.have.property('channel', 'c1');
      }
    });

    it('an open that tries to resume by session id (only the token resumes)', () => {
      for (const session of [UUID, TOKEN]) {
        const env = rejected(
          JSON.stringify({ type: 'open', channel: 'c1', service: 't', session }),
        );
        expect(env.detail).to.match(/session id cannot resume/);
        expect(env).to.have.property('channel', 'c1');
      }
    });

    it('a message envelope without a message', () => {
      const env = rejected('{"type":"message","channel":"c1"}');
      expect(env.detail).to.match(/message is missing/);
      expect(env).to.have.property('channel', 'c1');
    });

    it('an extra member in every type', () => {
      const texts = [
        '{"type":"open","channel":"c1","service":"todo","extra":1}',
        '{"type":"message","channel":"c1","message":{},"id":1}',
        '{"type":"close","channel":"c1","service":"todo"}',
        '{"type":"close","channel":"c1","session":"' + UUID + '"}',
        '{"type":"close","channel":"c1","__proto__":{}}',
      ];
      for (const text of texts) {
        const env = rejected(text);
        expect(env.detail, text).to.match(/unexpected member/);
        expect(env).to.have.property('channel', 'c1');
      }
    });

    it('keeps a long unknown type out of the detail', () => {
      const env = rejected(JSON.stringify({ type: 'y'.repeat(10_000), channel: 'c1' }));
      expect(env.detail.length).to.be.below(100);
    });
  });

  describe('relay envelopes', () => {
    it('opened', () => {
      expect(JSON.parse(openedEnvelope('c1', UUID, false, TOKEN))).to.deep.equal({
        type: 'opened',
        channel: 'c1',
        session: UUID,
        resumed: false,
        resume_token: TOKEN,
      });
      expect(JSON.parse(openedEnvelope('c"2', UUID, true, TOKEN))).to.deep.equal({
        type: 'opened',
        channel: 'c"2',
        session: UUID,
        resumed: true,
        resume_token: TOKEN,
      });
    });

    it('closed', () => {
      expect(JSON.parse(closedEnvelope('c1', 'idle_timeout', 'no traffic'))).to.deep.equal({
        type: 'closed',
        channel: 'c1',
        reason: 'idle_timeout',
        message: 'no traffic',
      });
    });

    it('error, with and without channel and data', () => {
      expect(JSON.parse(errorEnvelope('bad_envelope', 'not JSON'))).to.deep.equal({
        type: 'error',
        reason: 'bad_envelope',
        message: 'not JSON',
      });
      expect(JSON.parse(errorEnvelope('session_limit', 'full', 'c1', { limit: 3 }))).to.deep.equal({
        type: 'error',
        channel: 'c1',
        reason: 'session_limit',
        message: 'full',
        data: { limit: 3 },
      });
      expect(JSON.parse(errorEnvelope('unknown_channel', 'm', undefined))).to.not.have.property(
        'channel',
      );
    });

    it('message envelopes parse back to the same message for odd channel names', () => {
      const message = { jsonrpc: '2.0', id: 'x', result: { text: 'ä "q" \\ \u2028 😀' } };
      const line = JSON.stringify(message);
      for (const channel of ['c1', 'say "hi"', 'back\\slash', 'канал-😀', '\u2028\n\t', '}{']) {
        const text = messageEnvelope(channel, line);
        expect(JSON.parse(text), channel).to.deep.equal({ type: 'message', channel, message });
        expect(text.startsWith(messagePrefix(channel))).to.equal(true);
      }
    });

    it('message envelopes keep the JSON-RPC line byte for byte', () => {
      const line = '{ "jsonrpc" :"2.0",  "id":1.0,"result":{"n":1e2,"s":"\\u00e9"} }';
      const text = messageEnvelope('c1', line);
      expect(text).to.equal('{"type":"message","channel":"c1","message":' + line + '}');
      expect(text.slice(messagePrefix('c1').length, -1)).to.equal(line);
      expect(JSON.parse(text).message).to.deep.equal({
        jsonrpc: '2.0',
        id: 1,
        result: { n: 100, s: 'é' },
      });
    });

    it('a client message envelope parses back', () => {
      const env = parsed(messageEnvelope('c"1', '{"jsonrpc":"2.0","method":"x"}'));
      expect(env).to.deep.equal({
        type: 'message',
        channel: 'c"1',
        message: { jsonrpc: '2.0', method: 'x' },
        text: '{"jsonrpc":"2.0","method":"x"}',
      });
    });
  });
});
