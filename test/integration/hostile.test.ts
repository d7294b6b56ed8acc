// The hostile-input suite: property-based tests (fast-check) that throw random and adversarial
// frames, envelopes, REST bodies and server output at one real relay, and assert after every input
// that it stays live (/healthz), answers or closes within a deadline, keeps its memory bounded, and
// leaves no process or directory behind. The root hook fails any test during which the process
// emits uncaughtException or unhandledRejection. FUZZ_RUNS scales every property (default 1).

import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'chai';
import fc from 'fast-check';
import { REASONS } from '../../src/errors.js';
import { MAX_NESTING_DEPTH } from '../../src/jsonrpc/codec.js';
import { fixtureService, ROOT, serviceConfig } from '../helpers/config.js';
import {
  clientFrame,
  contentType,
  envelopeFrame,
  restBody,
  serverOutput,
} from '../helpers/hostile.js';
import { http } from '../helpers/http.js';
import { INIT_PARAMS, startRelay, WsCursor, type TestRelay } from '../helpers/relay.js';

const REPLAY_SERVER = join(ROOT, 'test/fixtures/replay-server.mjs');
const SCALE = Number(process.env.FUZZ_RUNS ?? '1');
const runs = (n: number) => Math.max(1, Math.round(n * SCALE));
/** What a frame or a call may take before the relay counts as frozen. */
const ANSWER_MS = 10_000;
const MIB = 1024 * 1024;

describe('hostile input never takes the relay down (property-based)', function () {
  this.timeout(180_000);
  let t: TestRelay;
  let rssBefore = 0;

  before(async () => {
    t = await startRelay(
      {
        echo: fixtureService([], { request_timeout: 5 }),
        replay: serviceConfig(['node', REPLAY_SERVER], { request_timeout: 2 }),
      },
      {
        // Small lines and frames (256 KiB), so that oversized ones are cheap to make.
        server: { max_message_bytes: 256 * 1024, shutdown_grace: 1 },
        session: { max_sessions_per_service: 64, resume_window: 1 },
      },
    );
    rssBefore = process.memoryUsage().rss;
  });

  after(async () => {
    if (t === undefined) return;
    await t.relay.close();
    // Every session's directory is gone once the relay has closed.
    const left = readdirSync(t.config.session.sandbox_dir);
    await t.close();
    expect(left, 'sandbox_dir after close').to.deep.equal([]);
  });

  afterEach(async () => {
    const health = await http(`${t.url}/healthz`, { timeoutMs: ANSWER_MS });
    expect(health.status, '/healthz after the test').to.equal(200);
  });

  async function live(): Promise<void> {
    const health = await http(`${t.url}/healthz`, { timeoutMs: ANSWER_MS });
    expect(health.status).to.equal(200);
  }

  it('answers any /mcp frame or refuses it, and the session keeps serving in order', async () => {
    let ws = await WsCursor.connect(t.ws('/mcp/echo'), 'mcp');
    let probe = 0;
    try {
      await fc.assert(
        fc.asyncProperty(clientFrame, async (frame) => {
          if (ws.ws.readyState !== ws.ws.OPEN)
            ws = await WsCursor.connect(t.ws('/mcp/echo'), 'mcp');
          ws.send(frame.value);
          // A ping after the frame must be answered: the relay neither died nor froze, and the
          // bad frame did not cost the session.
          const id = `probe-${probe++}`;
          ws.send({ jsonrpc: '2.0', id, method: 'ping' });
          const { skipped } = await ws.until((m) => m?.id === id, ANSWER_MS);
          for (const m of skipped) checkRelayError(m);
          // JSON nested past the documented limit is refused as invalid_request, never forwarded.
          if (tooDeep(frame.value)) {
            expect(skipped.map((m) => m?.error?.code)).to.include(-32600);
          }
        }),
        { numRuns: runs(150) },
      );
    } finally {
      ws.close();
    }
    await live();
  });

  it('answers any /ws frame with an envelope, and a good channel keeps serving', async () => {
    let ws = await openControl();
    let probe = 0;
    try {
      await fc.assert(
        fc.asyncProperty(envelopeFrame, async (frame) => {
          if (ws.ws.readyState !== ws.ws.OPEN) ws = await openControl();
          ws.send(frame.value);
          const id = `probe-${probe++}`;
          ws.send({
            type: 'message',
            channel: 'ctl',
            message: { jsonrpc: '2.0', id, method: 'ping' },
          });
          const { skipped } = await ws.until(
            (e) => e?.channel === 'ctl' && e.type === 'message' && e.message?.id === id,
            ANSWER_MS,
          );
          for (const e of skipped) {
            expect(e.type, JSON.stringify(e)).to.be.oneOf(['opened', 'message', 'closed', 'error']);
            if (e.type === 'error' || e.type === 'closed')
              expect(REASONS).to.have.property(e.reason);
            if (e.type === 'message') checkRelayError(e.message);
          }
        }),
        { numRuns: runs(150) },
      );
    } finally {
      ws.close();
    }
    await live();
  });

  it('answers any REST call body with JSON and never a 500', async () => {
    try {
      await restProperty();
    } finally {
      // The sessions the calls opened end with the test (the root hook checks no process is left).
      const sessions = await http(`${t.url}/sessions`, { timeoutMs: ANSWER_MS });
      for (const id of Object.keys(sessions.body as object)) {
        const url = `${t.url}/sessions/${encodeURIComponent(id)}`;
        await http(url, { method: 'DELETE', timeoutMs: ANSWER_MS });
      }
    }
    await live();
  });

  async function restProperty(): Promise<void> {
    await fc.assert(
      fc.asyncProperty(restBody, contentType, async (body, type) => {
        const answer = await http(`${t.url}/services/echo/call`, {
          method: 'POST',
          body: body.value,
          headers: type === '' ? {} : { 'content-type': type },
          timeoutMs: ANSWER_MS,
        });
        expect(answer.status, answer.text).to.not.equal(500);
        if (tooDeep(body.value)) expect(answer.status, answer.text).to.be.oneOf([400, 415]);
        if (answer.status >= 400) {
          expect(answer.body, answer.text).to.be.an('object');
          expect(REASONS, answer.text).to.have.property(answer.body.reason);
        }
      }),
      { numRuns: runs(150) },
    );
  }

  it('answers every call whatever its server writes, or closes with a documented reason', async () => {
    let ws: WsCursor | undefined;
    let n = 0;
    try {
      await fc.assert(
        fc.asyncProperty(serverOutput, async (chunks) => {
          if (ws === undefined || ws.ws.readyState !== ws.ws.OPEN) {
            ws = await WsCursor.connect(t.ws('/mcp/replay'), 'mcp');
            answerServerRequests(ws);
            ws.send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: INIT_PARAMS });
            await ws.until((m) => m?.id === 'init', ANSWER_MS);
            ws.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
          }
          const id = `call-${n++}`;
          ws.send({
            jsonrpc: '2.0',
            id,
            method: 'tools/call',
            params: { name: 'replay', arguments: { chunks: chunks.map((c) => c.value) } },
          });
          // The call gets its answer — the server's, or the relay's error if the session ended —
          // before any close, and within the deadline: never a request_timeout.
          const { match } = await ws.until((m) => m?.id === id, ANSWER_MS);
          const reason = match.error?.data?.reason;
          if (reason !== undefined) {
            expect(REASONS).to.have.property(reason);
            // Only a server that glued its own reply to a half line loses the reply (a junk line):
            // then request_timeout is the truth. Any other end comes at once.
            if (!gluesReply(chunks.map((c) => c.value)))
              expect(reason).to.not.equal('request_timeout');
          }
          await live();
        }),
        { numRuns: runs(80) },
      );
    } finally {
      ws?.close();
    }
  });

  it('keeps its memory bounded across the suite', () => {
    const grown = process.memoryUsage().rss - rssBefore;
    expect(grown, 'RSS growth of the process hosting the relay').to.be.below(256 * MIB);
  });

  async function openControl(): Promise<WsCursor> {
    const ws = await WsCursor.connect(t.ws('/ws'), 'mcpmux.v1');
    ws.send({ type: 'open', channel: 'ctl', service: 'echo' });
    const { match } = await ws.until((e) => e?.channel === 'ctl', ANSWER_MS);
    expect(match.type, JSON.stringify(match)).to.equal('opened');
    return ws;
  }
});

/**
 * True when `text` is JSON nested deeper than the relay takes from a client. Counted on the text,
 * independently of the relay's own check: brackets outside strings.
 */
function tooDeep(text: string): boolean {
  try {
    JSON.parse(text);
  } catch {
    return false;
  }
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === '[' || c === '{') max = Math.max(max, ++depth);
    else if (c === ']' || c === '}') depth--;
  }
  return max > MAX_NESTING_DEPTH;
}

/**
 * Answers every server→client request the relay forwards with a method-not-found error, as a client
 * without sampling, roots or elicitation does. Left unanswered, one would keep the session waiting on
 * its client, where only max_request_time bounds a call (docs/protocol.md), not request_timeout.
 */
function answerServerRequests(cursor: WsCursor): void {
  cursor.ws.on('message', (data: Buffer) => {
    let m: any;
    try {
      m = JSON.parse(data.toString('utf8'));
    } catch {
      return;
    }
    if (typeof m?.method !== 'string' || m.id === undefined || m.id === null) return;
    const error = { code: -32601, message: 'this client answers no server requests' };
    cursor.send({ jsonrpc: '2.0', id: m.id, error });
  });
}

/** True when the chunks end in a half line, so that the server's reply is glued to it. */
function gluesReply(chunks: (string | { big: number })[]): boolean {
  const text = chunks.map((c) => (typeof c === 'string' ? c : '\n')).join('');
  return text !== '' && !text.endsWith('\n');
}

/** A relay-made JSON-RPC error carries a reason from the catalogue. */
function checkRelayError(m: any): void {
  const reason = m?.error?.data?.reason;
  if (reason !== undefined) expect(REASONS, JSON.stringify(m)).to.have.property(reason);
}
