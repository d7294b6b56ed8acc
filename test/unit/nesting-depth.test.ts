// The nesting limit (docs/protocol.md "Limits"): a message deeper than MAX_NESTING_DEPTH is
// -32600 before anything serialises it; everything up to the limit passes, and the check agrees
// with a plain recursive definition of depth for any JSON value (fast-check).
import { expect } from 'chai';
import fc from 'fast-check';
import {
  MAX_NESTING_DEPTH,
  classify,
  decodeMessage,
  nestsDeeperThan,
} from '../../src/jsonrpc/codec.js';

/** Depth by definition: a scalar 0, a container 1 + its deepest member. */
function depthOf(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  const members = Array.isArray(value) ? value : Object.values(value);
  return 1 + Math.max(0, ...members.map(depthOf));
}

/** `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"a":{"a":…}}}` of total depth `depth`. */
function requestOfDepth(depth: number): string {
  const inner = depth - 1; // the message object itself is one level
  return `{"jsonrpc":"2.0","id":1,"method":"tools/call","params":${'{"a":'.repeat(inner - 1)}{}${'}'.repeat(inner - 1)}}`;
}

describe('nesting limit', () => {
  it('is 64 levels', () => {
    expect(MAX_NESTING_DEPTH).to.equal(64);
  });

  it('passes a request exactly MAX_NESTING_DEPTH deep and refuses one level more with its id', () => {
    const ok = decodeMessage(requestOfDepth(MAX_NESTING_DEPTH));
    expect(ok.kind).to.equal('request');
    const deep = decodeMessage(requestOfDepth(MAX_NESTING_DEPTH + 1));
    expect(deep).to.deep.include({
      kind: 'invalid',
      reason: 'invalid_request',
      problem: 'too_deep',
      id: 1,
    });
  });

  it('refuses 5,000 levels in a 10 KB frame without throwing', () => {
    const text = `{"jsonrpc":"2.0","id":"x","method":"tools/call","params":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    expect(text.length).to.be.below(11_000);
    const out = decodeMessage(text);
    expect(out).to.deep.include({ kind: 'invalid', problem: 'too_deep', id: 'x' });
    expect(classify(JSON.parse(text))).to.deep.include({ problem: 'too_deep' });
  });

  it('refuses 100,000 levels (JSON.parse takes them; the walk stops at the limit)', () => {
    const n = 100_000;
    const out = decodeMessage(
      `{"jsonrpc":"2.0","method":"x","params":${'['.repeat(n)}${']'.repeat(n)}}`,
    );
    expect(out).to.deep.include({ kind: 'invalid', problem: 'too_deep' });
  });

  it('passes a tools/list answer with JSON Schemas nested 20 levels', () => {
    let schema: Record<string, unknown> = { type: 'string' };
    for (let i = 0; i < 9; i++) schema = { type: 'object', properties: { x: schema } };
    const text = JSON.stringify({
      jsonrpc: '2.0',
      id: 2,
      result: { tools: [{ name: 't', inputSchema: schema }] },
    });
    expect(depthOf(JSON.parse(text))).to.be.within(20, 25);
    expect(decodeMessage(text).kind).to.equal('response');
  });

  it('says a batch is a batch, and non-JSON is not_json', () => {
    expect(decodeMessage('[{"jsonrpc":"2.0","method":"x"}]')).to.deep.include({ problem: 'batch' });
    expect(decodeMessage('hello')).to.deep.include({ problem: 'not_json' });
    expect(decodeMessage('{"jsonrpc":"1.0","method":"x"}')).to.deep.include({ problem: 'shape' });
  });

  it('agrees with the definition of depth for any JSON value and any limit (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 12 }), fc.integer({ min: 0, max: 14 }), (value, max) => {
        expect(nestsDeeperThan(value, max)).to.equal(depthOf(value) > max);
      }),
      { numRuns: 500 },
    );
  });

  it('never throws on any JSON text, and refuses exactly what nests deeper than the limit (property)', () => {
    const nested = fc
      .tuple(fc.integer({ min: 1, max: 200 }), fc.constantFrom('[', '{"k":'))
      .map(([n, open]) => {
        const close = open === '[' ? ']' : '}';
        return `{"jsonrpc":"2.0","id":7,"method":"m","params":{"p":${open.repeat(n)}${open === '[' ? '' : '0'}${close.repeat(n)}}}`;
      });
    fc.assert(
      fc.property(fc.oneof(nested, fc.json({ maxDepth: 8 }), fc.string()), (text) => {
        const out = decodeMessage(text);
        let parsed: unknown;
        try {
          parsed = JSON.parse(text);
        } catch {
          expect(out).to.deep.include({ problem: 'not_json' });
          return;
        }
        const tooDeep = out.kind === 'invalid' && out.problem === 'too_deep';
        const isObject = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed);
        expect(tooDeep).to.equal(isObject && depthOf(parsed) > MAX_NESTING_DEPTH);
      }),
      { numRuns: 500 },
    );
  });
});
