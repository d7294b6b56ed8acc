// The fault funnel for a server's stdout (src/mcp/server-output.ts, src/mcp/junk-policy.ts): junk
// is skipped, counted and logged at a bounded rate; sustained junk, a batch, a line over the limit
// and nesting too deep are one protocol error each; nothing ever throws out of push().
import { expect } from 'chai';
import fc from 'fast-check';
import type { McpmuxError } from '../../src/errors.js';
import {
  JUNK_LOGGED_LINES,
  JUNK_MAX_CHARS,
  JUNK_MAX_LINES,
  JUNK_WINDOW_MS,
  JunkPolicy,
} from '../../src/mcp/junk-policy.js';
import { ServerOutput } from '../../src/mcp/server-output.js';
import type { Logger } from '../../src/log.js';

interface Harness {
  output: ServerOutput;
  messages: string[];
  fatal: McpmuxError[];
  warnings: unknown[];
  junk: () => number;
  clock: { now: number };
}

function harness(options: { maxLineBytes?: number; throwOn?: string } = {}): Harness {
  const messages: string[] = [];
  const fatal: McpmuxError[] = [];
  const warnings: unknown[] = [];
  let junk = 0;
  const clock = { now: 1_000_000 };
  const log = {
    warn: (obj: unknown) => warnings.push(obj),
    error: () => undefined,
  } as unknown as Logger;
  const output = new ServerOutput({
    maxLineBytes: options.maxLineBytes ?? 1024,
    log,
    now: () => clock.now,
    onMessage: (_decoded, line) => {
      if (options.throwOn !== undefined && line.includes(options.throwOn)) {
        throw new TypeError("Cannot read properties of undefined (reading 'progressToken')");
      }
      messages.push(line);
    },
    onJunk: () => junk++,
    onFatal: (err) => fatal.push(err),
  });
  return { output, messages, fatal, warnings, junk: () => junk, clock };
}

const feed = (h: Harness, text: string) => h.output.push(Buffer.from(text));
const NOTE = '{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info"}}';

describe('ServerOutput (stdout fault funnel)', () => {
  it('skips a start-up banner, counts and logs it, and delivers the messages around it', () => {
    const h = harness();
    feed(h, `server v1.2 listening on stdio\n${NOTE}\n42\n${NOTE}\n`);
    expect(h.messages).to.deep.equal([NOTE, NOTE]);
    expect(h.junk()).to.equal(2); // the banner, and a JSON value that is no message
    expect(h.fatal).to.deep.equal([]);
    expect(h.warnings).to.have.length(2);
  });

  it('logs at most JUNK_LOGGED_LINES junk lines a window, then one summary', () => {
    const h = harness();
    for (let i = 0; i < 50; i++) feed(h, `junk ${i}\n`);
    expect(h.junk()).to.equal(50);
    expect(h.warnings).to.have.length(JUNK_LOGGED_LINES);
    h.clock.now += JUNK_WINDOW_MS;
    feed(h, 'junk again\n');
    expect(h.warnings).to.deep.include({ skipped: 50 - JUNK_LOGGED_LINES });
    expect(h.fatal).to.deep.equal([]);
  });

  it('ends the session on more than JUNK_MAX_LINES junk lines in one window', () => {
    const h = harness();
    for (let i = 0; i < JUNK_MAX_LINES; i++) feed(h, `junk ${i}\n`);
    expect(h.fatal).to.deep.equal([]);
    feed(h, `one too many\n${NOTE}\n`);
    expect(h.fatal).to.have.length(1);
    expect(h.fatal[0]!.reason).to.equal('upstream_protocol_error');
    expect(h.fatal[0]!.data).to.deep.include({ problem: 'sustained_junk' });
    expect(h.messages).to.deep.equal([]); // nothing is delivered after the protocol error
    expect(h.output.failed).to.equal(true);
  });

  it('lets the same junk through when it is spread over windows', () => {
    const h = harness();
    for (let w = 0; w < 5; w++) {
      for (let i = 0; i < JUNK_MAX_LINES; i++) feed(h, `junk ${i}\n`);
      h.clock.now += JUNK_WINDOW_MS;
    }
    expect(h.fatal).to.deep.equal([]);
    expect(h.junk()).to.equal(5 * JUNK_MAX_LINES);
  });

  it('ends the session on more than JUNK_MAX_CHARS junk characters in one window', () => {
    const h = harness({ maxLineBytes: 4 * JUNK_MAX_CHARS });
    feed(h, `${'j'.repeat(JUNK_MAX_CHARS)}\n`);
    expect(h.fatal).to.deep.equal([]);
    feed(h, 'j\n');
    expect(h.fatal[0]!.data).to.deep.include({ problem: 'sustained_junk' });
  });

  it('ends the session at once on a batch, on a line over the limit, and on nesting too deep', () => {
    const batch = harness();
    feed(batch, `[${NOTE}]\n`);
    expect(batch.fatal[0]!.data).to.deep.include({ problem: 'batch' });

    const long = harness({ maxLineBytes: 100 });
    feed(long, NOTE.slice(0, 50));
    feed(long, `${'x'.repeat(100)}\n${NOTE}\n`);
    expect(long.fatal[0]!.data).to.deep.include({ problem: 'line_too_long', limit_bytes: 100 });
    expect(long.messages).to.deep.equal([]);

    const deep = harness({ maxLineBytes: 1 << 20 });
    feed(
      deep,
      `{"jsonrpc":"2.0","method":"m","params":{"d":${'['.repeat(5000)}${']'.repeat(5000)}}}\n`,
    );
    expect(deep.fatal[0]!.data).to.deep.include({ problem: 'too_deep', limit_depth: 128 });
  });

  it('turns a throw while a message is routed into one protocol error, never out of push()', () => {
    const h = harness({ throwOn: 'progress' });
    expect(() =>
      feed(h, `{"jsonrpc":"2.0","method":"notifications/progress"}\n${NOTE}\n`),
    ).not.to.throw();
    expect(h.fatal).to.have.length(1);
    expect(h.fatal[0]!.data).to.deep.include({ problem: 'unprocessable' });
    feed(h, `${NOTE}\n`);
    expect(h.messages).to.deep.equal([]);
  });

  it('delivers a last line without a newline at end()', () => {
    const h = harness();
    feed(h, NOTE);
    h.output.end();
    expect(h.messages).to.deep.equal([NOTE]);
  });

  it('never throws and reports at most one protocol error, whatever the bytes (property)', () => {
    const line = fc.oneof(
      fc.constant(NOTE),
      fc.constant(`[${NOTE}]`),
      fc.string({ maxLength: 40 }),
      fc.json({ maxDepth: 4 }),
      fc
        .integer({ min: 60, max: 80 })
        .map((n) => `{"jsonrpc":"2.0","method":"m","params":${'['.repeat(n)}${']'.repeat(n)}}`),
    );
    fc.assert(
      fc.property(
        fc.array(line, { maxLength: 150 }),
        fc.integer({ min: 1, max: 64 }),
        (lines, cut) => {
          const h = harness({ maxLineBytes: 512 });
          const bytes = Buffer.from(lines.join('\n') + '\n');
          for (let i = 0; i < bytes.length; i += cut) h.output.push(bytes.subarray(i, i + cut));
          h.output.end();
          expect(h.fatal.length).to.be.at.most(1);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('JunkPolicy', () => {
  it('logs the first lines of a window, then counts quietly, then says sustained', () => {
    let now = 0;
    const policy = new JunkPolicy(() => now);
    const verdicts = Array.from({ length: JUNK_MAX_LINES + 1 }, () => policy.line(10));
    expect(verdicts.slice(0, JUNK_LOGGED_LINES).every((v) => v === 'log')).to.equal(true);
    expect(verdicts[JUNK_LOGGED_LINES]).to.equal('quiet');
    expect(verdicts[JUNK_MAX_LINES]).to.equal('sustained');
    now += JUNK_WINDOW_MS;
    let ended = 0;
    expect(policy.line(10, (n) => (ended = n))).to.equal('log');
    expect(ended).to.equal(JUNK_MAX_LINES - JUNK_LOGGED_LINES);
    expect(policy.total).to.equal(JUNK_MAX_LINES + 2);
  });
});
