// Streamable HTTP streams and the request lifecycle behind them (docs/protocol.md, "Streamable
// HTTP"): which stream each server message takes, the GET stream (one at a time, its buffer),
// Last-Event-ID replay of a dropped stream, and the SPEC §4/§6 semantics through HTTP: timeouts,
// the queue, idle timeout, the session limit; then the access layer: Host, Origin, CORS, auth.
import { expect } from 'chai';
import { fixtureService } from '../helpers/config.js';
import { waitFor } from '../helpers/processes.js';
import { startRelay, type TestRelay } from '../helpers/relay.js';
import { McpHttpTester, jsonOf, type RawAnswer } from '../helpers/sse-client.js';
import { resultText, toolCall } from '../helpers/jsonrpc.js';

/** The next data events of `answer` until (and with) the response to `id`. */
async function untilResponse(answer: RawAnswer, id: number): Promise<any[]> {
  const seen: any[] = [];
  for (;;) {
    const { message } = await answer.next();
    seen.push(message);
    if (message.id === id && message.method === undefined) return seen;
  }
}

describe('Streamable HTTP streams and lifecycle', function () {
  let relay: TestRelay;
  const t = new McpHttpTester(() => relay.url);

  before(async () => {
    relay = await startRelay({
      fx: fixtureService(),
      short: fixtureService([], { request_timeout: 1 }),
      narrow: fixtureService([], { concurrency: 1, queue_limit: 1 }),
      idle: fixtureService([], { idle_timeout: 1 }),
    });
  });
  after(async () => {
    await relay.close();
  });
  afterEach(async () => {
    await t.cleanup();
    await waitFor(() => relay.relay.registry.size === 0, 10_000, 'sessions to end');
  });

  describe('routing', () => {
    it("logging while one request is in flight goes to that request's stream", async () => {
      const id = await t.init();
      const answer = await t.post(id, toolCall(1, 'notify', { count: 2 }));
      const seen = await untilResponse(answer, 1);
      expect(seen.map((m) => m.method ?? 'response')).to.deep.equal([
        'notifications/message',
        'notifications/message',
        'response',
      ]);
      await answer.ended();
    });

    it('list_changed goes to the GET stream, never to the request stream', async () => {
      const id = await t.init();
      const stream = await t.get(id);
      expect(stream.headers['content-type']).to.equal('text/event-stream');
      const answer = await t.post(id, toolCall(1, 'list-changed'));
      const seen = await untilResponse(answer, 1);
      expect(seen).to.have.length(1);
      const pushed = await stream.next();
      expect(pushed.message.method).to.equal('notifications/tools/list_changed');
      expect(pushed.id).to.match(/^0-\d+$/);
    });

    it('with no GET stream open, the GET stream messages wait for the next GET', async () => {
      const id = await t.init();
      await untilResponse(await t.post(id, toolCall(1, 'list-changed')), 1);
      const stream = await t.get(id);
      expect((await stream.next()).message.method).to.equal('notifications/tools/list_changed');
    });

    it('one GET stream at a time: a second is 409; a GET with Last-Event-ID replaces it', async () => {
      const id = await t.init();
      const first = await t.get(id);
      const priming = await first.nextEvent();
      const second = await t.get(id);
      expect(second.status).to.equal(409);
      expect((await jsonOf(second)).error.data.reason).to.equal('stream_conflict');
      const resumed = await t.get(id, { 'last-event-id': priming.id! });
      expect(resumed.status).to.equal(200);
      await first.ended();
    });

    it('a server request with its call alone in flight goes to the call stream; its answer by POST', async () => {
      const id = await t.init();
      const answer = await t.post(id, toolCall(1, 'sample', { prompt: 'q' }));
      const { message: asked } = await answer.next();
      expect(asked.method).to.equal('sampling/createMessage');
      const reply = {
        jsonrpc: '2.0',
        id: asked.id,
        result: { model: 'm', role: 'assistant', content: { type: 'text', text: 'A' } },
      };
      expect((await t.post(id, reply)).status).to.equal(202);
      const { message } = await answer.next();
      expect(resultText(message)).to.equal('A');
    });
  });

  describe('cancellation', () => {
    it("notifications/cancelled reaches the server and ends the request's stream (no response)", async () => {
      const id = await t.init();
      const token = { progressToken: 'c' };
      const answer = await t.post(id, toolCall(1, 'progress', { steps: 1000, ms: 20 }, token));
      expect((await answer.next()).message.method).to.equal('notifications/progress');
      const cancel = {
        jsonrpc: '2.0',
        method: 'notifications/cancelled',
        params: { requestId: 1, reason: 'test' },
      };
      expect((await t.post(id, cancel)).status).to.equal(202);
      await answer.ended();
      const ids = await untilResponse(await t.post(id, toolCall(2, 'cancelled-ids')), 2);
      expect(resultText(ids.at(-1))).to.equal('[1]');
      // The id is free again.
      const again = await untilResponse(await t.post(id, toolCall(1, 'echo', { text: 'r' })), 1);
      expect(resultText(again.at(-1))).to.equal('r');
    });
  });

  describe('resume', () => {
    it('a POST stream dropped before its response is replayed by GET with Last-Event-ID, alone', async () => {
      const id = await t.init();
      await untilResponse(await t.post(id, toolCall(9, 'notify', { count: 1 })), 9); // another stream
      const answer = await t.post(
        id,
        toolCall(1, 'progress', { steps: 3, ms: 10 }, { progressToken: 'p' }),
      );
      const priming = await answer.nextEvent();
      answer.close(); // the connection drops: not a cancellation
      const session = relay.relay.registry.all()[0]!;
      await waitFor(() => session.inflightCount === 0, 10_000, 'the call to finish');
      const resumed = await t.get(id, { 'last-event-id': priming.id! });
      const seen = await untilResponse(resumed, 1);
      expect(seen.map((m) => m.params?.progress ?? resultText(m))).to.deep.equal([
        1,
        2,
        3,
        'done 3',
      ]);
      await resumed.ended();
      const cancelled = await untilResponse(await t.post(id, toolCall(2, 'cancelled-ids')), 2);
      expect(resultText(cancelled.at(-1))).to.equal('[]');
    });

    it('a resume of an ended stream with nothing left → 404; a Last-Event-ID not issued → 400', async () => {
      const id = await t.init();
      expect((await t.get(id, { 'last-event-id': '77-1' })).status).to.equal(404);
      expect((await t.get(id, { 'last-event-id': 'garbage' })).status).to.equal(400);
    });
  });

  describe('request lifecycle', () => {
    it('request_timeout answers the request on its stream (-32001)', async () => {
      const id = await t.init('short');
      const answer = await t.post(id, toolCall(1, 'slow', { ms: 5000 }), 'short');
      const [message] = await untilResponse(answer, 1);
      expect(message.error.code).to.equal(-32001);
      expect(message.error.data.reason).to.equal('request_timeout');
    });

    it('queue_full with retry_after_ms when the service queue is full', async () => {
      const id = await t.init('narrow');
      const running = await t.post(id, toolCall(1, 'slow', { ms: 3000 }), 'narrow');
      const queued = await t.post(id, toolCall(2, 'slow', { ms: 10 }), 'narrow');
      const refused = await t.post(id, toolCall(3, 'echo', {}), 'narrow');
      const [message] = await untilResponse(refused, 3);
      expect(message.error.data.reason).to.equal('queue_full');
      expect(message.error.data.retry_after_ms).to.be.a('number');
      running.close();
      queued.close();
    });

    it('idle_timeout ends the session; its id then answers 404', async () => {
      const id = await t.init('idle');
      const stream = await t.get(id, {}, 'idle');
      await stream.ended(10_000); // the session ended: its GET stream is closed
      expect((await t.post(id, toolCall(1, 'echo', {}), 'idle')).status).to.equal(404);
    });
  });

  describe('shutdown', () => {
    it('relay shutdown answers requests in flight with shutting_down and ends every stream', async () => {
      const own = await startRelay({ fx: fixtureService() }, { server: { shutdown_grace: 0 } });
      const mine = new McpHttpTester(() => own.url);
      try {
        const id = await mine.init();
        const stream = await mine.get(id);
        const answer = await mine.post(id, toolCall(1, 'slow', { ms: 20_000 }));
        await answer.nextEvent(); // priming: the call is on its way
        await own.close();
        const [message] = await untilResponse(answer, 1);
        expect(message.error.data.reason).to.equal('shutting_down');
        await answer.ended();
        await stream.ended();
      } finally {
        mine.opened.length = 0; // nothing left to DELETE
        await mine.cleanup();
        await own.close();
      }
    });
  });
});
