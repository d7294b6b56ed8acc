// The nesting-depth check's cost on the hot path (src/jsonrpc/codec.ts nestsDeeperThan), against
// JSON.parse of the same text and against the other way to do it: scanning the raw text for
// brackets outside strings. Run: node --import tsx scripts/bench-depth.ts

import { MAX_NESTING_DEPTH, nestsDeeperThan } from '../src/jsonrpc/codec.js';

/** The alternative: one pass over the text, counting brackets outside strings. */
function scanDeeperThan(text: string, maxDepth: number): boolean {
  let depth = 0;
  const n = text.length;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      for (i++; i < n; i++) {
        const d = text.charCodeAt(i);
        if (d === 92) i++;
        else if (d === 34) break;
      }
    } else if (c === 123 || c === 91) {
      if (++depth > maxDepth) return true;
    } else if (c === 125 || c === 93) depth--;
  }
  return false;
}

const schema = {
  type: 'object',
  properties: {
    a: { type: 'string' },
    b: { type: 'object', properties: { c: { type: 'array', items: { type: 'integer' } } } },
  },
  required: ['a'],
};
const tools = Array.from({ length: 50 }, (_, i) => ({
  name: `t${i}`,
  description: 'x'.repeat(100),
  inputSchema: schema,
}));
const entities = Array.from({ length: 60000 }, (_, i) => ({
  name: `entity${i}`,
  entityType: 'thing',
  observations: [`obs one ${i}`, `obs two ${i}`],
}));
const cases: Record<string, unknown> = {
  'tools/call request': {
    jsonrpc: '2.0',
    id: 1,
    method: 'tools/call',
    params: { name: 'echo', arguments: { text: 'hello world' } },
  },
  'tools/list answer': { jsonrpc: '2.0', id: 2, result: { tools } },
  'text result 1 MiB': {
    jsonrpc: '2.0',
    id: 3,
    result: { content: [{ type: 'text', text: 'y'.repeat(1 << 20) }] },
  },
  'graph of 60,000 objects': { jsonrpc: '2.0', id: 4, result: { entities } },
};

const perCall = (iterations: number, fn: () => unknown): number => {
  const start = process.hrtime.bigint();
  for (let i = 0; i < iterations; i++) fn();
  return Number(process.hrtime.bigint() - start) / iterations / 1000;
};

for (const [name, value] of Object.entries(cases)) {
  const text = JSON.stringify(value);
  const iterations = Math.max(5, Math.floor(2e7 / text.length));
  const parsed: unknown = JSON.parse(text);
  const parse = perCall(iterations, () => JSON.parse(text));
  const walk = perCall(iterations, () => nestsDeeperThan(parsed, MAX_NESTING_DEPTH));
  const scan = perCall(iterations, () => scanDeeperThan(text, MAX_NESTING_DEPTH));
  console.log(
    `${name} (${text.length} B): parse ${parse.toFixed(1)} µs, walk ${walk.toFixed(1)} µs, scan ${scan.toFixed(1)} µs`,
  );
}
