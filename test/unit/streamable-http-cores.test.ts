// The pure cores of the Streamable HTTP endpoint: SSE framing and event ids, the byte-bounded
// event log and its replay, the stream routing rule, and the header rules (versions, Accept).
import { expect } from 'chai';
import fc from 'fast-check';
import { EventLog } from '../../src/http/event-log.js';
import {
  SUPPORTED_VERSIONS,
  acceptsEventStream,
  answerFormat,
  primes,
  requestVersion,
  statelessMethodError,
} from '../../src/http/mcp-http.js';
import { formatEventId, parseEventId, sseEvent, ssePriming } from '../../src/http/sse.js';
import { STANDALONE, StreamRouter } from '../../src/http/stream-router.js';
import { McpmuxError } from '../../src/errors.js';

/** The data of each event of an SSE text, as a client reads it. */
function readEvents(text: string): { id?: string; data: string }[] {
  return text
    .split('\n\n')
    .filter((block) => block !== '')
    .map((block) => {
      const event: { id?: string; data: string } = { data: '' };
      const data: string[] = [];
      for (const line of block.split('\n')) {
        if (line.startsWith('id: ')) event.id = line.slice(4);
        if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
      }
      event.data = data.join('\n');
      return event;
    });
}

describe('Streamable HTTP cores', function () {
  describe('SSE framing', () => {
    it('frames one event with its id; line breaks in data cannot end it early', () => {
      expect(sseEvent('1-2', '{"a":1}')).to.equal('id: 1-2\ndata: {"a":1}\n\n');
      fc.assert(
        fc.property(fc.string(), (data) => {
          const events = readEvents(sseEvent('3-4', data));
          expect(events).to.have.length(1);
          expect(events[0]!.id).to.equal('3-4');
          expect(events[0]!.data).to.equal(data.replace(/\r\n|\r/g, '\n'));
        }),
      );
    });

    it('a priming event has an id and empty data', () => {
      expect(readEvents(ssePriming('0-7'))).to.deep.equal([{ id: '0-7', data: '' }]);
      expect(ssePriming('0-7', 1500)).to.contain('retry: 1500\n');
    });

    it('event ids name their stream and round-trip; foreign ids are not read', () => {
      expect(parseEventId(formatEventId({ stream: 12, seq: 345 }))).to.deep.equal({
        stream: 12,
        seq: 345,
      });
      for (const bad of [undefined, '', 'x', '1-', '-1', '1-2-3', '1.5-2', 'a-b']) {
        expect(parseEventId(bad), String(bad)).to.equal(undefined);
      }
    });
  });

  describe('EventLog', () => {
    it('numbers events once per session and replays one stream after an id', () => {
      const log = new EventLog(1000);
      const a = log.append(1, 'a');
      const b = log.append(2, 'b');
      const c = log.append(1, 'c');
      expect([a.seq, b.seq, c.seq]).to.deep.equal([1, 2, 3]);
      expect(log.after(1, 0).map((e) => e.data)).to.deep.equal(['a', 'c']);
      expect(log.after(1, a.seq).map((e) => e.data)).to.deep.equal(['c']);
      expect(log.after(2, 0).map((e) => e.data)).to.deep.equal(['b']);
      expect(log.after(3, 0)).to.deep.equal([]);
    });

    it('stays within its byte bound, dropping the oldest events first (counted)', () => {
      fc.assert(
        fc.property(
          fc.array(
            fc.tuple(fc.integer({ min: 0, max: 3 }), fc.string({ maxLength: 40, size: 'max' })),
          ),
          fc.integer({ min: 10, max: 100 }),
          (events, max) => {
            const log = new EventLog(max);
            for (const [stream, data] of events) {
              log.append(stream, data);
              expect(log.bytes).to.be.at.most(max);
            }
            const kept = [0, 1, 2, 3].flatMap((s) => log.after(s, 0)).map((e) => e.seq);
            // What is kept is a suffix of what was appended.
            const sorted = [...kept].sort((x, y) => x - y);
            // What is kept is a suffix of what was appended (events over the bound never are).
            const fits = events.map(([, d], i) => (Buffer.byteLength(d) <= max ? i + 1 : 0));
            const suffix = fits.filter((seq) => seq > 0 && seq >= (sorted[0] ?? Infinity));
            expect(sorted).to.deep.equal(suffix);
            if (fits.some((seq) => seq > 0)) expect(sorted.at(-1)).to.equal(Math.max(...fits));
            expect(log.dropped + log.size).to.equal(events.length);
          },
        ),
      );
    });

    it('forget drops one stream; nextSeq reserves an id no event uses', () => {
      const log = new EventLog(1000);
      log.append(1, 'a');
      const reserved = log.nextSeq();
      log.append(2, 'bb');
      log.forget(1);
      expect(log.after(1, 0)).to.deep.equal([]);
      expect(log.bytes).to.equal(2);
      expect(log.after(2, reserved).map((e) => e.data)).to.deep.equal(['bb']);
    });
  });

  describe('StreamRouter', () => {
    const response = (id: number) => ({ kind: 'response' as const, id });
    const log = { kind: 'notification' as const, method: 'notifications/message' };
    const sampling = { kind: 'request' as const, method: 'sampling/createMessage' };

    it("a response goes to its request's stream, which ends with its last response", () => {
      const r = new StreamRouter();
      const s = r.openStream(true);
      r.addRequest(s, 1, undefined);
      expect(r.route(response(1), false)).to.deep.equal({ stream: s, ends: true });
      expect(r.isOpen(s)).to.equal(false);
      expect(r.route(response(1), false)).to.deep.equal({ stream: STANDALONE, ends: false });
    });

    it('progress follows its token; list_changed and unknown tokens go to the GET stream', () => {
      const r = new StreamRouter();
      const a = r.openStream(true);
      const b = r.openStream(true);
      r.addRequest(a, 1, 'ta');
      r.addRequest(b, 2, 7);
      const progress = (t: unknown) => ({
        kind: 'notification' as const,
        method: 'notifications/progress',
        progressToken: t,
      });
      expect(r.route(progress(7), true).stream).to.equal(b);
      expect(r.route(progress('ta'), true).stream).to.equal(a);
      expect(r.route(progress('zz'), true).stream).to.equal(STANDALONE);
      const changed = { kind: 'notification' as const, method: 'notifications/tools/list_changed' };
      expect(r.route(changed, false).stream).to.equal(STANDALONE);
    });

    it('logs and server requests: the one request in flight, else the GET stream, else the oldest', () => {
      const r = new StreamRouter();
      const a = r.openStream(true);
      r.addRequest(a, 1, undefined);
      expect(r.route(log, true).stream).to.equal(a);
      expect(r.route(sampling, true).stream).to.equal(a);
      const b = r.openStream(true);
      r.addRequest(b, 2, undefined);
      expect(r.route(sampling, true).stream).to.equal(STANDALONE);
      expect(r.route(log, false).stream).to.equal(a);
      r.route(response(1), false);
      expect(r.route(log, true).stream).to.equal(b);
    });

    it('a cancelled request settles at once; a late response goes nowhere near its stream', () => {
      const r = new StreamRouter();
      const s = r.openStream(true);
      r.addRequest(s, 1, undefined);
      expect(r.cancel(1)).to.deep.equal({ stream: s, ends: true });
      expect(r.has(1)).to.equal(false);
      expect(r.cancel(1)).to.equal(undefined);
      expect(r.route(response(1), false).stream).to.equal(STANDALONE);
    });

    it('a JSON-answered request takes only its response: the rest goes to the GET stream', () => {
      const r = new StreamRouter();
      const j = r.openStream(false);
      r.addRequest(j, 1, 'tok');
      expect(r.route(log, false).stream).to.equal(STANDALONE);
      expect(
        r.route(
          { kind: 'notification', method: 'notifications/progress', progressToken: 'tok' },
          false,
        ).stream,
      ).to.equal(STANDALONE);
      expect(r.route(response(1), false)).to.deep.equal({ stream: j, ends: true });
    });
  });

  describe('header rules', () => {
    it('MCP-Protocol-Version: served ones pass, absent is 2025-03-26, others are refused by name', () => {
      for (const v of SUPPORTED_VERSIONS) expect(requestVersion(v)).to.equal(v);
      expect(requestVersion(undefined)).to.equal('2025-03-26');
      const err = requestVersion('2026-07-28');
      expect(err).to.be.instanceOf(McpmuxError);
      expect((err as McpmuxError).reason).to.equal('unsupported_version');
      expect((err as McpmuxError).message).to.contain('2025-11-25, 2025-06-18, 2025-03-26');
      expect(statelessMethodError('server/discover')?.reason).to.equal('unsupported_version');
      expect(statelessMethodError('tools/list')).to.equal(undefined);
      expect(primes('2025-11-25')).to.equal(true);
      expect(primes('2025-06-18')).to.equal(false);
    });

    it('Accept: SSE when listed, else JSON when JSON or a wildcard or nothing, else none', () => {
      expect(answerFormat('application/json, text/event-stream')).to.equal('sse');
      expect(answerFormat('text/event-stream')).to.equal('sse');
      expect(answerFormat('application/json')).to.equal('json');
      expect(answerFormat('*/*')).to.equal('json');
      expect(answerFormat(undefined)).to.equal('json');
      expect(answerFormat('text/html')).to.equal(undefined);
      expect(answerFormat('text/event-stream;q=0, application/json')).to.equal('json');
      expect(acceptsEventStream('text/event-stream')).to.equal(true);
      expect(acceptsEventStream(undefined)).to.equal(true);
      expect(acceptsEventStream('application/json')).to.equal(false);
    });
  });
});
