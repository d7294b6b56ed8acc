// Unit tests for the JSON-RPC codec (SPEC §6 "Validation"): what the relay accepts, what it answers
// with -32700 / -32600 itself, and how a frame becomes one stdin line.
import { expect } from 'chai';
import {
  classify,
  decodeMessage,
  isJsonRpcId,
  isSingleLine,
  toLine,
} from '../../src/jsonrpc/codec.js';
import type { JsonRpcId, JsonRpcMessage } from '../../src/jsonrpc/types.js';

interface InvalidCase {
  name: string;
  text: string;
  reason: 'parse_error' | 'invalid_request';
  /** The id the Invalid must carry; undefined = it must carry none. */
  id?: JsonRpcId;
}

const INVALID: InvalidCase[] = [
  { name: 'non-JSON text', text: 'not json', reason: 'parse_error' },
  { name: 'truncated JSON', text: '{"jsonrpc":"2.0","id":1,', reason: 'parse_error' },
  { name: 'empty text', text: '', reason: 'parse_error' },
  {
    name: 'a batch array',
    text: '[{"jsonrpc":"2.0","id":1,"method":"ping"}]',
    reason: 'invalid_request',
  },
  { name: 'an empty batch', text: '[]', reason: 'invalid_request' },
  { name: 'a JSON string', text: '"hello"', reason: 'invalid_request' },
  { name: 'a JSON number', text: '42', reason: 'invalid_request' },
  { name: 'JSON null', text: 'null', reason: 'invalid_request' },
  {
    name: 'id: null',
    text: '{"jsonrpc":"2.0","id":null,"method":"ping"}',
    reason: 'invalid_request',
  },
  {
    name: 'a fractional id',
    text: '{"jsonrpc":"2.0","id":1.5,"method":"ping"}',
    reason: 'invalid_request',
  },
  {
    name: 'an object id',
    text: '{"jsonrpc":"2.0","id":{"a":1},"method":"ping"}',
    reason: 'invalid_request',
  },
  {
    name: 'a boolean id',
    text: '{"jsonrpc":"2.0","id":true,"method":"ping"}',
    reason: 'invalid_request',
  },
  {
    name: 'jsonrpc missing',
    text: '{"id":7,"method":"ping"}',
    reason: 'invalid_request',
    id: 7,
  },
  {
    name: 'jsonrpc "1.0"',
    text: '{"jsonrpc":"1.0","id":"a","method":"ping"}',
    reason: 'invalid_request',
    id: 'a',
  },
  {
    name: 'jsonrpc as the number 2',
    text: '{"jsonrpc":2,"id":3,"method":"ping"}',
    reason: 'invalid_request',
    id: 3,
  },
  {
    name: 'an extra top-level member',
    text: '{"jsonrpc":"2.0","id":4,"method":"ping","extra":true}',
    reason: 'invalid_request',
    id: 4,
  },
  {
    name: 'params a string',
    text: '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":"x"}',
    reason: 'invalid_request',
    id: 5,
  },
  {
    name: 'params null',
    text: '{"jsonrpc":"2.0","id":5,"method":"tools/call","params":null}',
    reason: 'invalid_request',
    id: 5,
  },
  {
    name: 'params a number in a notification',
    text: '{"jsonrpc":"2.0","method":"notifications/progress","params":1}',
    reason: 'invalid_request',
  },
  {
    name: 'method empty',
    text: '{"jsonrpc":"2.0","id":6,"method":""}',
    reason: 'invalid_request',
    id: 6,
  },
  {
    name: 'method not a string',
    text: '{"jsonrpc":"2.0","id":6,"method":12}',
    reason: 'invalid_request',
    id: 6,
  },
  {
    name: 'a request with a result',
    text: '{"jsonrpc":"2.0","id":8,"method":"ping","result":{}}',
    reason: 'invalid_request',
    id: 8,
  },
  {
    name: 'a request with an error',
    text: '{"jsonrpc":"2.0","id":8,"method":"ping","error":{"code":1,"message":"m"}}',
    reason: 'invalid_request',
    id: 8,
  },
  {
    name: 'a response with both result and error',
    text: '{"jsonrpc":"2.0","id":9,"result":{},"error":{"code":-1,"message":"m"}}',
    reason: 'invalid_request',
    id: 9,
  },
  {
    name: 'a response with neither result nor error',
    text: '{"jsonrpc":"2.0","id":"r1"}',
    reason: 'invalid_request',
    id: 'r1',
  },
  {
    name: 'a response without an id',
    text: '{"jsonrpc":"2.0","result":{}}',
    reason: 'invalid_request',
  },
  {
    name: 'an error without a code',
    text: '{"jsonrpc":"2.0","id":10,"error":{"message":"m"}}',
    reason: 'invalid_request',
    id: 10,
  },
  {
    name: 'an error with a fractional code',
    text: '{"jsonrpc":"2.0","id":10,"error":{"code":-32000.5,"message":"m"}}',
    reason: 'invalid_request',
    id: 10,
  },
  {
    name: 'an error with a string code',
    text: '{"jsonrpc":"2.0","id":10,"error":{"code":"-32000","message":"m"}}',
    reason: 'invalid_request',
    id: 10,
  },
  {
    name: 'an error without a message',
    text: '{"jsonrpc":"2.0","id":10,"error":{"code":-32000}}',
    reason: 'invalid_request',
    id: 10,
  },
  {
    name: 'an error that is a string',
    text: '{"jsonrpc":"2.0","id":10,"error":"boom"}',
    reason: 'invalid_request',
    id: 10,
  },
];

describe('codec', () => {
  describe('decodeMessage rejects what the relay must answer itself', () => {
    for (const c of INVALID) {
      it(`${c.name} → ${c.reason}${c.id === undefined ? ' (no id)' : ` (id ${JSON.stringify(c.id)})`}`, () => {
        const out = decodeMessage(c.text);
        expect(out.kind).to.equal('invalid');
        if (out.kind !== 'invalid') return;
        expect(out.reason).to.equal(c.reason);
        expect(out.detail).to.be.a('string').that.is.not.empty;
        if (c.id === undefined) expect(out).not.to.have.property('id');
        else expect(out.id).to.equal(c.id);
      });
    }
  });

  describe('decodeMessage accepts MCP messages', () => {
    const VALID: { name: string; text: string; kind: string; id?: JsonRpcId }[] = [
      {
        name: 'a request with id 0 (falsy)',
        text: '{"jsonrpc":"2.0","id":0,"method":"ping"}',
        kind: 'request',
        id: 0,
      },
      {
        name: 'a request with a string id',
        text: '{"jsonrpc":"2.0","id":"abc","method":"tools/list","params":{}}',
        kind: 'request',
        id: 'abc',
      },
      {
        name: 'a request with an empty string id',
        text: '{"jsonrpc":"2.0","id":"","method":"ping"}',
        kind: 'request',
        id: '',
      },
      {
        name: 'a request with a negative integer id',
        text: '{"jsonrpc":"2.0","id":-3,"method":"ping"}',
        kind: 'request',
        id: -3,
      },
      {
        name: 'a request with array params',
        text: '{"jsonrpc":"2.0","id":1,"method":"m","params":[1,2]}',
        kind: 'request',
        id: 1,
      },
      {
        name: 'a notification',
        text: '{"jsonrpc":"2.0","method":"notifications/initialized"}',
        kind: 'notification',
      },
      {
        name: 'a notification with params',
        text: '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":1}}',
        kind: 'notification',
      },
      {
        name: 'a success response',
        text: '{"jsonrpc":"2.0","id":2,"result":{"tools":[]}}',
        kind: 'response',
        id: 2,
      },
      {
        name: 'a success response with a null result',
        text: '{"jsonrpc":"2.0","id":0,"result":null}',
        kind: 'response',
        id: 0,
      },
      {
        name: 'an error response',
        text: '{"jsonrpc":"2.0","id":"x","error":{"code":-32601,"message":"nope","data":{"a":1}}}',
        kind: 'response',
        id: 'x',
      },
    ];
    for (const c of VALID) {
      it(`${c.name} → ${c.kind}`, () => {
        const out = decodeMessage(c.text);
        expect(out.kind).to.equal(c.kind);
        if (out.kind === 'invalid') return;
        expect(out.message).to.deep.equal(JSON.parse(c.text));
        if (c.id === undefined) expect(out.message).not.to.have.property('id');
        else expect((out.message as { id?: unknown }).id).to.equal(c.id);
      });
    }

    it('keeps the id type: 1 and "1" stay distinct', () => {
      const n = decodeMessage('{"jsonrpc":"2.0","id":1,"method":"ping"}');
      const s = decodeMessage('{"jsonrpc":"2.0","id":"1","method":"ping"}');
      expect(n.kind === 'request' && n.message.id).to.equal(1);
      expect(s.kind === 'request' && s.message.id).to.equal('1');
    });
  });

  describe('classify', () => {
    it('works on already-parsed values like decodeMessage', () => {
      expect(classify({ jsonrpc: '2.0', id: 0, method: 'ping' }).kind).to.equal('request');
      expect(classify({ jsonrpc: '2.0', method: 'n' }).kind).to.equal('notification');
      expect(classify({ jsonrpc: '2.0', id: 1, result: 1 }).kind).to.equal('response');
    });

    it('never says parse_error', () => {
      for (const v of [undefined, 'x', 1, true, null, [], {}]) {
        const out = classify(v);
        expect(out.kind).to.equal('invalid');
        if (out.kind === 'invalid') expect(out.reason).to.equal('invalid_request');
      }
    });
  });

  describe('isJsonRpcId', () => {
    const cases: [unknown, boolean][] = [
      [0, true],
      [-1, true],
      [42, true],
      [Number.MAX_SAFE_INTEGER, true],
      ['', true],
      ['abc', true],
      [1.5, false],
      [NaN, false],
      [Infinity, false],
      [Number.MAX_SAFE_INTEGER + 1, false],
      [null, false],
      [undefined, false],
      [true, false],
      [{}, false],
      [[1], false],
    ];
    for (const [value, expected] of cases) {
      it(`${String(value)} (${typeof value}) → ${String(expected)}`, () => {
        expect(isJsonRpcId(value)).to.equal(expected);
      });
    }
  });

  describe('isSingleLine and toLine', () => {
    it('isSingleLine is false for LF or CR anywhere', () => {
      expect(isSingleLine('{"a":1}')).to.equal(true);
      expect(isSingleLine('{"a":\n1}')).to.equal(false);
      expect(isSingleLine('{"a":\r1}')).to.equal(false);
      expect(isSingleLine('{"a":1}\r\n')).to.equal(false);
    });

    it('keeps one-line text exactly as the client sent it', () => {
      const text = '{ "jsonrpc": "2.0",  "id": 1, "method": "ping" }';
      const out = decodeMessage(text);
      expect(out.kind).to.equal('request');
      if (out.kind === 'invalid') return;
      expect(toLine(text, out.message)).to.equal(text);
    });

    it('re-serialises a pretty-printed multi-line frame into one line', () => {
      const message: JsonRpcMessage = {
        jsonrpc: '2.0',
        id: 0,
        method: 'tools/call',
        params: { name: 'echo', arguments: { text: 'line one\nline two' } },
      };
      const text = JSON.stringify(message, null, 2);
      expect(text).to.include('\n');
      const out = decodeMessage(text);
      expect(out.kind).to.equal('request');
      if (out.kind === 'invalid') return;
      const line = toLine(text, out.message);
      expect(isSingleLine(line)).to.equal(true);
      expect(JSON.parse(line)).to.deep.equal(message);
    });

    it('re-serialises a CRLF-formatted frame into one line', () => {
      const text = '{\r\n"jsonrpc":"2.0",\r\n"method":"notifications/initialized"\r\n}';
      const out = decodeMessage(text);
      expect(out.kind).to.equal('notification');
      if (out.kind === 'invalid') return;
      const line = toLine(text, out.message);
      expect(line).to.equal('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    });
  });
});
