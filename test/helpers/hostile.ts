// Arbitraries for the hostile-input suite (test/integration/hostile.test.ts): frames a broken or
// malicious client might send, REST bodies, and stdout a broken or malicious server might write.
// Each is built to reach the relay's edges — nesting, ids, shapes, sizes — not just random bytes.

import fc from 'fast-check';

/** A generated input that prints short in a counterexample (a 10 KB frame would bury the report). */
export interface Input<T = string> {
  readonly value: T;
  [fc.toStringMethod](): string;
}

const SHOWN_CHARS = 160;

export function input<T>(value: T): Input<T> {
  return {
    value,
    [fc.toStringMethod]: () => {
      const text = typeof value === 'string' ? value : JSON.stringify(value);
      if (text.length <= SHOWN_CHARS) return JSON.stringify(text);
      const nest = /^(\[+|(?:\{"a":)+)/.exec(text)?.[0].length ?? 0;
      return `${JSON.stringify(text.slice(0, SHOWN_CHARS))}… (${text.length} chars${nest > 10 ? `, nested from the start` : ''})`;
    },
  };
}

/** `[[[…]]]` or `{"a":{"a":…}}` nested `depth` levels, as text (never built as a value). */
export function nestedText(depth: number, kind: 'array' | 'object'): string {
  return kind === 'array'
    ? '['.repeat(depth) + ']'.repeat(depth)
    : '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

// Up to 10 000 levels: a 10 KB frame nesting ~5 000 deep killed the first version. Kept well under
// the suite's 256 KiB frame limit (even escaped inside a string), so that the depth, not the size,
// is what is tested.
const deepText = fc
  .tuple(fc.integer({ min: 1, max: 10_000 }), fc.constantFrom('array' as const, 'object' as const))
  .map(([depth, kind]) => nestedText(depth, kind));

/** Ids of every kind JSON can carry, including the ones SPEC §6 refuses. */
const anyId = fc.oneof(
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 40 }),
  fc.constant(null),
  fc.boolean(),
  fc.constant(0),
  fc.constant(-0),
  fc.jsonValue({ maxDepth: 2 }),
);

const methods = fc.oneof(
  fc.constantFrom(
    'ping',
    'initialize',
    'tools/list',
    'tools/call',
    'resources/list',
    'notifications/initialized',
    'notifications/cancelled',
    'notifications/progress',
    'notifications/message',
    'sampling/createMessage',
    'roots/list',
    'elicitation/create',
    '',
  ),
  fc.string({ maxLength: 30 }),
);

/** Objects that look like JSON-RPC messages, with any key present or missing and any value. */
export const rpcLike = fc.record(
  {
    jsonrpc: fc.oneof(fc.constant('2.0'), fc.constant('2.0'), fc.jsonValue({ maxDepth: 1 })),
    id: anyId,
    method: methods,
    params: fc.oneof(
      fc.jsonValue({ maxDepth: 4 }),
      fc.record(
        {
          progressToken: anyId,
          requestId: anyId,
          progress: fc.jsonValue({ maxDepth: 1 }),
          _meta: fc.jsonValue({ maxDepth: 2 }),
          name: fc.string({ maxLength: 20 }),
          arguments: fc.jsonValue({ maxDepth: 3 }),
        },
        { requiredKeys: [] },
      ),
    ),
    result: fc.jsonValue({ maxDepth: 3 }),
    error: fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.record({ code: fc.jsonValue({ maxDepth: 1 }), message: fc.jsonValue({ maxDepth: 1 }) }),
    ),
  },
  { requiredKeys: [] },
);

/** A valid request whose params nest `depth` levels deep. */
const deepRequest = fc
  .integer({ min: 1, max: 10_000 })
  .map(
    (depth) =>
      `{"jsonrpc":"2.0","id":"deep","method":"tools/call","params":{"name":"echo","arguments":{"x":${nestedText(depth, 'array')}}}}`,
  );

/** Text a client might put in one WebSocket frame on /mcp/{service}. */
const clientText = fc.oneof(
  { weight: 4, arbitrary: rpcLike.map((m) => JSON.stringify(m)) },
  { weight: 2, arbitrary: fc.json({ maxDepth: 4 }) },
  { weight: 2, arbitrary: fc.string({ maxLength: 200, unit: 'binary' }) },
  { weight: 1, arbitrary: fc.array(rpcLike, { maxLength: 4 }).map((a) => JSON.stringify(a)) },
  { weight: 2, arbitrary: deepText },
  { weight: 2, arbitrary: deepRequest },
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{"jsonrpc":"2.0","id":12345678901234567890,"method":"ping"}',
      '{"jsonrpc":"2.0","id":1e400,"method":"ping"}',
      '{"jsonrpc":"2.0","id":"x","method":"ping","method":"tools/list"}',
      '{"jsonrpc":"2.0","id":"\\ud800","method":"ping"}',
      '{"jsonrpc":"2.0","method":"notifications/cancelled"}',
      '{"jsonrpc":"2.0","method":"notifications/cancelled","params":{"requestId":{}}}',
      '{"jsonrpc":"2.0","id":7,"result":{}}',
      '{"jsonrpc":"2.0","id":7,"error":{"code":"x"}}',
      '{"__proto__":{"polluted":true},"jsonrpc":"2.0","id":"p","method":"ping"}',
      '{"constructor":{"prototype":{"polluted":true}},"jsonrpc":"2.0","id":"q","method":"ping"}',
      '',
      ' ',
      'null',
      '[]',
      '{}',
      '"\\u0000"',
    ),
  },
);

export const clientFrame = clientText.map(input);

const channelName = fc.oneof(
  fc.constantFrom('a', 'b', 'c'),
  fc.string({ maxLength: 140 }),
  fc.jsonValue({ maxDepth: 1 }),
);

/** Text a client might put in one frame on /ws (envelopes, broken envelopes, anything). */
const envelopeText = fc.oneof(
  {
    weight: 5,
    arbitrary: fc
      .record(
        {
          type: fc.oneof(
            fc.constantFrom('open', 'message', 'close', 'opened', 'error'),
            fc.jsonValue({ maxDepth: 1 }),
          ),
          channel: channelName,
          service: fc.oneof(fc.constantFrom('echo', 'nope', ''), fc.jsonValue({ maxDepth: 1 })),
          session: fc.oneof(fc.uuid(), fc.jsonValue({ maxDepth: 1 })),
          resume: fc.oneof(fc.uuid(), fc.string(), fc.jsonValue({ maxDepth: 1 })),
          message: fc.oneof(rpcLike, fc.jsonValue({ maxDepth: 3 })),
        },
        { requiredKeys: [] },
      )
      .map((e) => JSON.stringify(e)),
  },
  {
    weight: 2,
    arbitrary: fc
      .tuple(channelName, deepText)
      .map(([c, deep]) => `{"type":"message","channel":${JSON.stringify(c)},"message":${deep}}`),
  },
  {
    weight: 2,
    arbitrary: deepRequest.map((r) => `{"type":"message","channel":"a","message":${r}}`),
  },
  { weight: 2, arbitrary: clientText },
);

export const envelopeFrame = envelopeText.map(input);

/** A POST /services/{name}/call body: the right shape with wrong values, or anything at all. */
const restText = fc.oneof(
  {
    weight: 4,
    arbitrary: fc
      .record(
        {
          tool: fc.oneof(fc.constantFrom('echo', 'nope', ''), fc.jsonValue({ maxDepth: 1 })),
          arguments: fc.oneof(
            fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 3 })),
            fc.jsonValue({ maxDepth: 2 }),
          ),
          session_id: fc.oneof(
            fc.constantFrom('fuzz-1', 'fuzz-2', 'fuzz-3'),
            fc.jsonValue({ maxDepth: 1 }),
          ),
          timeout: fc.jsonValue({ maxDepth: 1 }),
          metadata: fc.jsonValue({ maxDepth: 3 }),
        },
        { requiredKeys: [] },
      )
      .map((b) => JSON.stringify(b)),
  },
  {
    weight: 2,
    arbitrary: fc
      .integer({ min: 1, max: 10_000 })
      .map(
        (depth) =>
          `{"tool":"echo","session_id":"fuzz-1","arguments":{"text":${nestedText(depth, 'array')}}}`,
      ),
  },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 1, max: 10_000 })
      .map(
        (depth) =>
          `{"tool":"echo","session_id":"fuzz-2","metadata":${nestedText(depth, 'object')}}`,
      ),
  },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }) },
  { weight: 1, arbitrary: fc.string({ maxLength: 200, unit: 'binary' }) },
  { weight: 1, arbitrary: deepText },
);

export const restBody = restText.map(input);

export const contentType = fc.constantFrom(
  'application/json',
  'application/json; charset=utf-8',
  'text/plain',
  'application/x-www-form-urlencoded',
  '',
);

/** One chunk of a server's stdout: lines of every kind, and pieces of lines. */
type Chunk = string | { big: number };
const serverChunk: fc.Arbitrary<Chunk> = fc.oneof(
  { weight: 4, arbitrary: rpcLike.map((m) => `${JSON.stringify(m)}\n`) },
  { weight: 2, arbitrary: fc.string({ maxLength: 120 }).map((s) => `${s}\n`) },
  { weight: 1, arbitrary: fc.json({ maxDepth: 3 }).map((s) => `${s}\n`) },
  {
    weight: 1,
    arbitrary: fc.array(rpcLike, { maxLength: 3 }).map((a) => `${JSON.stringify(a)}\n`),
  },
  { weight: 1, arbitrary: deepText.map((s) => `${s}\n`) },
  {
    weight: 1,
    arbitrary: fc
      .integer({ min: 1, max: 10_000 })
      .map(
        (depth) =>
          `{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":${nestedText(depth, 'array')}}}\n`,
      ),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 60 }) }, // no newline: glued to what follows
  {
    weight: 1,
    arbitrary: fc.constantFrom(
      '{"jsonrpc":"2.0","method":"notifications/progress"}\n',
      '{"jsonrpc":"2.0","method":"notifications/progress","params":null}\n',
      '{"jsonrpc":"2.0","method":"notifications/progress","params":{"progressToken":{}}}\n',
      '{"jsonrpc":"2.0","id":null,"result":{}}\n',
      '{"jsonrpc":"2.0","id":"relay:1","result":{}}\n',
      '{"jsonrpc":"2.0","id":0,"method":"sampling/createMessage","params":{}}\n',
      '{"jsonrpc":"2.0","id":1,"method":"ping"}\n',
      '\n',
      '\r\n',
      '\u0000\n',
    ),
  },
  // Past the relay's line limit (the suite runs with max_message_bytes of 256 KiB).
  { weight: 1, arbitrary: fc.integer({ min: 262_145, max: 600_000 }).map((big) => ({ big })) },
);

export const serverOutput = fc.array(serverChunk.map(input), { minLength: 1, maxLength: 12 });
