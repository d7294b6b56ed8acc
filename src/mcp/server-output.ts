// The one fault funnel for a server's stdout (like the MCP SDK's Protocol routing every fault to
// onerror): bytes → bounded lines → one parse per line → a message for the client to route, junk
// to skip and count, or the session's protocol error. Nothing here throws onto the event loop: a
// throw while a message is routed is that session's protocol error too. After the first protocol
// error the rest of the output is ignored (the caller stops the process).
//
//   not JSON, or JSON that is no JSON-RPC message   junk: skipped, counted, logged at a bounded rate
//   too much junk (JunkPolicy)                      upstream_protocol_error  sustained_junk
//   a line over maxLineBytes                        upstream_protocol_error  line_too_long
//   a batch array                                   upstream_protocol_error  batch
//   nesting deeper than MAX_SERVER_NESTING_DEPTH    upstream_protocol_error  too_deep
//   routing the message threw                       upstream_protocol_error  unprocessable

import { McpmuxError } from '../errors.js';
import { MAX_SERVER_NESTING_DEPTH, decodeMessage } from '../jsonrpc/codec.js';
import { LineDecoder } from '../jsonrpc/line-decoder.js';
import type { Classified } from '../jsonrpc/types.js';
import type { Logger } from '../log.js';
import {
  JUNK_MAX_CHARS,
  JUNK_MAX_LINES,
  JUNK_WINDOW_MS,
  JunkPolicy,
  type JunkVerdict,
} from './junk-policy.js';

/** `data.problem` of an upstream_protocol_error (docs/errors.md). */
export type ProtocolProblem =
  'line_too_long' | 'batch' | 'too_deep' | 'sustained_junk' | 'unprocessable';

/** Characters of a junk line shown in the log. */
const JUNK_SHOWN_CHARS = 200;

export interface ServerOutputOptions {
  maxLineBytes: number;
  log: Logger;
  /** A valid JSON-RPC message and the line it came in. A throw here is a protocol error. */
  onMessage: (decoded: Classified, line: string) => void;
  /** A junk line was skipped (metrics). */
  onJunk?: () => void;
  /** The server broke the protocol; called once, after which nothing more is delivered. */
  onFatal: (err: McpmuxError) => void;
  now?: () => number;
}

export class ServerOutput {
  readonly #o: ServerOutputOptions;
  readonly #decoder: LineDecoder;
  readonly #junk: JunkPolicy;
  #failed = false;

  constructor(options: ServerOutputOptions) {
    this.#o = options;
    this.#junk = new JunkPolicy(options.now);
    this.#decoder = new LineDecoder({
      maxLineBytes: options.maxLineBytes,
      onLine: (line) => this.#line(line),
      onOverflow: (bytes) =>
        this.#fail(
          'line_too_long',
          `stdout line longer than max_message_bytes (${options.maxLineBytes} bytes; ${bytes}+ seen)`,
          { limit_bytes: options.maxLineBytes, bytes },
        ),
    });
  }

  /** True once the server broke the protocol. */
  get failed(): boolean {
    return this.#failed;
  }

  /** Junk lines skipped so far. */
  get junkLines(): number {
    return this.#junk.total;
  }

  /** A chunk of stdout. Never throws. */
  push(chunk: Buffer): void {
    if (this.#failed) return;
    try {
      this.#decoder.push(chunk);
    } catch (err) {
      this.#unprocessable(err);
    }
  }

  /** stdout ended: a last line without a newline is still delivered. Never throws. */
  end(): void {
    try {
      if (!this.#failed) this.#decoder.end();
    } catch (err) {
      this.#unprocessable(err);
    }
    const unlogged = this.#junk.takeUnlogged();
    if (unlogged > 0) this.#logUnlogged(unlogged);
  }

  #line(line: string): void {
    if (this.#failed) return;
    // Most junk is plain text: known without a parse (and its exception).
    const first = line.charCodeAt(0);
    if (first > 32 && first !== 0x7b && first !== 0x5b) return this.#skip(line);
    const decoded = decodeMessage(line, MAX_SERVER_NESTING_DEPTH);
    if (decoded.kind !== 'invalid') {
      this.#o.onMessage(decoded, line);
      return;
    }
    if (decoded.problem === 'batch') {
      this.#fail('batch', 'the server sent a JSON-RPC batch (MCP has none)');
    } else if (decoded.problem === 'too_deep') {
      this.#fail('too_deep', `a message nests deeper than ${MAX_SERVER_NESTING_DEPTH} levels`, {
        limit_depth: MAX_SERVER_NESTING_DEPTH,
      });
    } else this.#skip(line);
  }

  #skip(line: string): void {
    const verdict: JunkVerdict = this.#junk.line(line.length, (n) => this.#logUnlogged(n));
    this.#o.onJunk?.();
    if (verdict === 'sustained') {
      this.#fail(
        'sustained_junk',
        `more than ${JUNK_MAX_LINES} lines or ${JUNK_MAX_CHARS} characters of non-JSON-RPC output within ${JUNK_WINDOW_MS} ms`,
        { window_ms: JUNK_WINDOW_MS, max_lines: JUNK_MAX_LINES, max_chars: JUNK_MAX_CHARS },
      );
    } else if (verdict === 'log') {
      const shown = line.length > JUNK_SHOWN_CHARS ? line.slice(0, JUNK_SHOWN_CHARS) + '…' : line;
      this.#o.log.warn({ line: shown }, 'stdout line that is not a JSON-RPC message skipped');
    }
  }

  #logUnlogged(n: number): void {
    this.#o.log.warn({ skipped: n }, 'stdout junk lines not logged (rate limit)');
  }

  #unprocessable(err: unknown): void {
    this.#o.log.error({ err }, 'a server message could not be processed');
    this.#fail('unprocessable', `a server message could not be processed: ${String(err)}`);
  }

  #fail(problem: ProtocolProblem, detail: string, data: Record<string, unknown> = {}): void {
    if (this.#failed) return;
    this.#failed = true;
    const err = new McpmuxError('upstream_protocol_error', detail, { problem, ...data });
    try {
      this.#o.onFatal(err);
    } catch (thrown) {
      this.#o.log.error({ err: thrown }, 'handling a server protocol error failed');
    }
  }
}
