// Session.request (the REST API's calls) over a fake upstream and fake timers: the relay's own
// requests take the client requests' lifecycle — ids in the relay's namespace, the service queue
// and its fairness, one deadline that progress extends, cancellation, metrics, the session's end —
// and a server request on a session no client is behind is answered at once.

import { mock } from 'node:test';
import { expect } from 'chai';
import { McpmuxError, UpstreamError } from '../../src/errors.js';
import { decodeMessage } from '../../src/jsonrpc/codec.js';
import type { Classified } from '../../src/jsonrpc/types.js';
import { silentLogger } from '../../src/log.js';
import { RequestQueue } from '../../src/sessions/request-queue.js';
import type { RequestOutcome } from '../../src/sessions/request-outcome.js';
import { Session, type SessionSink, type Upstream } from '../../src/sessions/session.js';
import { fixtureService } from '../helpers/config.js';
import { FakeUpstream, type Wire } from '../helpers/fake-upstream.js';

const CALL = { name: 'echo', arguments: { text: 'hi' } };

/** A sink that records what reaches the client (`noClient`: a REST session's). */
function sink(noClient: boolean): SessionSink & { got: Wire[] } {
  const got: Wire[] = [];
  return {
    noClient,
    got,
    send: (line) => got.push(JSON.parse(line) as Wire),
    closed: () => undefined,
  };
}

function harness(
  options: { concurrency?: number; queueLimit?: number; maxRequestTime?: number } = {},
  queue = new RequestQueue('svc', {
    concurrency: options.concurrency ?? 4,
    queueLimit: options.queueLimit ?? 16,
  }),
) {
  const overrides = { max_request_time: options.maxRequestTime ?? 600 };
  const upstream = new FakeUpstream(fixtureService([], overrides));
  const outcomes: RequestOutcome[] = [];
  const session = new Session(upstream as unknown as Upstream, queue, {
    idleTimeoutMs: 0,
    resumeWindowMs: 60_000,
    resumeBufferMessages: 100,
    resumeBufferBytes: 1 << 20,
    logger: silentLogger(),
    observer: { dequeued: () => undefined, done: (outcome) => outcomes.push(outcome) },
  });
  const fromClient = (message: Record<string, unknown>) => {
    const text = JSON.stringify({ jsonrpc: '2.0', ...message });
    session.handle(decodeMessage(text) as Classified, text);
  };
  return { upstream, session, queue, outcomes, fromClient };
}

/** A promise's state without waiting for it. */
function watch(promise: Promise<unknown>) {
  const state: { value?: unknown; error?: unknown; settled: boolean } = { settled: false };
  promise.then(
    (value) => Object.assign(state, { value, settled: true }),
    (error: unknown) => Object.assign(state, { error, settled: true }),
  );
  return state;
}

const flush = async () => {
  for (let i = 0; i < 10; i++) await Promise.resolve();
};

describe('Session.request: REST calls share the client requests’ lifecycle (fake upstream)', function () {
  beforeEach(function () {
    mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  });
  afterEach(function () {
    mock.timers.reset();
  });

  it('sends the call in the relay’s id namespace with its id as progress token, and resolves with the answer', async function () {
    const h = harness();
    const rest = sink(true);
    h.session.attach(rest);
    const call = watch(h.session.request('tools/call', CALL, 1000));
    const sent = h.upstream.written[0]!;
    expect(sent).to.deep.include({ method: 'tools/call' });
    expect(sent.id).to.equal('mcpmux-test-0');
    expect(sent.params).to.deep.include({ name: 'echo', _meta: { progressToken: sent.id } });
    expect(h.session.inflightCount).to.equal(1);
    h.upstream.emitFromServer({ id: sent.id, result: { content: [{ type: 'text', text: 'hi' }] } });
    await flush();
    expect(call.value).to.deep.equal({ content: [{ type: 'text', text: 'hi' }] });
    expect(rest.got).to.have.length(0);
    expect(h.session.inflightCount).to.equal(0);

    const failing = watch(h.session.request('tools/call', CALL, 1000));
    const second = h.upstream.written[1]!;
    expect(second.id).to.equal('mcpmux-test-1'); // a fresh id
    h.upstream.emitFromServer({ id: second.id, error: { code: -32602, message: 'Unknown tool' } });
    await flush();
    expect(failing.error).to.be.instanceOf(UpstreamError);
    expect(failing.error).to.include({ code: -32602, message: 'Unknown tool' });
    expect(h.outcomes).to.deep.equal(['ok', 'error']);
  });

  it('times out at the call’s timeout with request_timeout, cancels it on the server and drops the late answer', async function () {
    const h = harness();
    const rest = sink(true);
    h.session.attach(rest);
    const call = watch(h.session.request('tools/call', CALL, 1000));
    const id = h.upstream.written[0]!.id;
    mock.timers.tick(999);
    await flush();
    expect(call.settled).to.equal(false);
    mock.timers.tick(1);
    await flush();
    const err = call.error as McpmuxError;
    expect(err).to.be.instanceOf(McpmuxError);
    expect(err.reason).to.equal('request_timeout');
    expect(err.message).to.equal('tools/call timed out after 1000 ms');
    expect(err.data).to.deep.equal({ method: 'tools/call', timeout_ms: 1000 });
    expect(h.upstream.written.at(-1)).to.deep.include({
      method: 'notifications/cancelled',
      params: { requestId: id, reason: 'request_timeout' },
    });
    expect(h.upstream.written).to.have.length(2); // one timer, one cancellation
    h.upstream.emitFromServer({ id, result: {} }); // late
    expect(rest.got).to.have.length(0);
    expect(h.outcomes).to.deep.equal(['timeout']);
    expect(h.session.inflightCount).to.equal(0);
  });

  it('restarts the deadline on progress, up to max_request_time, and keeps that progress from the client', async function () {
    const h = harness({ maxRequestTime: 3.5 });
    const client = sink(false); // a client is attached: the relay's progress is still not its
    h.session.attach(client);
    const call = watch(h.session.request('tools/call', CALL, 1000));
    const token = h.upstream.written[0]!.id;
    for (let i = 1; i <= 3; i++) {
      mock.timers.tick(900);
      h.upstream.emitFromServer({
        method: 'notifications/progress',
        params: { progressToken: token, progress: i },
      });
    }
    mock.timers.tick(900); // 3600 ms: thrice past the 1000 ms timeout, past the 3500 ms cap
    await flush();
    expect(client.got).to.have.length(0);
    const err = call.error as McpmuxError;
    expect(err.reason).to.equal('request_timeout');
    expect(err.data).to.deep.equal({ method: 'tools/call', timeout_ms: 3500 });
    expect(err.message).to.match(/max_request_time/);
    expect(h.upstream.written.at(-1)!.method).to.equal('notifications/cancelled');
  });

  it('waits behind the slot limit like a client request; a deadline passed while waiting sends nothing', async function () {
    const h = harness({ concurrency: 1 });
    h.session.attach(sink(true));
    h.fromClient({ id: 1, method: 'tools/call', params: { name: 'slow' } }); // holds the one slot
    const queued = watch(h.session.request('tools/call', CALL, 1000));
    await flush();
    expect(h.upstream.written.map((m) => m.id)).to.deep.equal([1]);
    expect(h.queue.waiting).to.equal(1);
    h.upstream.emitFromServer({ id: 1, result: {} });
    await flush();
    const relayId = h.upstream.written[1]!.id;
    expect(relayId).to.equal('mcpmux-test-0');
    h.upstream.emitFromServer({ id: relayId, result: { ok: true } });
    await flush();
    expect(queued.value).to.deep.equal({ ok: true });

    h.fromClient({ id: 2, method: 'tools/call', params: { name: 'slow' } });
    const expires = watch(h.session.request('tools/call', CALL, 1000));
    mock.timers.tick(1000); // the client's request_timeout is the service's 60 s: only ours ends
    await flush();
    expect((expires.error as McpmuxError).reason).to.equal('request_timeout');
    expect(h.queue.waiting).to.equal(0); // removed from the queue
    expect(h.upstream.written.map((m) => m.id ?? m.method)).to.deep.equal([1, relayId, 2]);
  });

  it('refuses a call with queue_full when the queue is full, counted as such', async function () {
    const h = harness({ concurrency: 1, queueLimit: 0 });
    h.session.attach(sink(true));
    h.fromClient({ id: 1, method: 'tools/call', params: { name: 'slow' } });
    const refused = watch(h.session.request('tools/call', CALL, 1000));
    await flush();
    expect((refused.error as McpmuxError).reason).to.equal('queue_full');
    expect((refused.error as McpmuxError).data).to.have.property('retry_after_ms');
    expect(h.outcomes).to.deep.equal(['queue_full']);
    expect(h.session.inflightCount).to.equal(1);
  });

  it('is ranked fairly against client requests of other sessions (fewer in flight first)', async function () {
    const queue = new RequestQueue('svc', { concurrency: 1, queueLimit: 16 });
    const ws = harness({}, queue); // a WebSocket client's session
    const rest = harness({}, queue); // a REST session_id's session
    ws.session.attach(sink(false));
    rest.session.attach(sink(true));
    ws.fromClient({ id: 1, method: 'tools/call', params: { name: 'slow' } }); // the slot
    ws.fromClient({ id: 2, method: 'tools/call', params: { name: 'slow' } }); // waits, 1 in flight
    const call = watch(rest.session.request('tools/call', CALL, 10_000)); // waits, 0 in flight
    await flush();
    ws.upstream.emitFromServer({ id: 1, result: {} });
    await flush();
    expect(rest.upstream.written.map((m) => m.id)).to.deep.equal(['mcpmux-test-0']); // first
    expect(ws.upstream.written.map((m) => m.id)).to.deep.equal([1]);
    await ws.session.close('session_closed');
    await rest.session.close('session_closed');
    expect(call.settled).to.equal(true);

    // the other way round: the REST session has more in flight, the client's request goes first
    const queue2 = new RequestQueue('svc', { concurrency: 1, queueLimit: 16 });
    const ws2 = harness({}, queue2);
    const rest2 = harness({}, queue2);
    ws2.session.attach(sink(false));
    rest2.session.attach(sink(true));
    const first = watch(rest2.session.request('tools/call', CALL, 10_000)); // the slot
    const second = watch(rest2.session.request('tools/call', CALL, 10_000)); // waits, 1 in flight
    ws2.fromClient({ id: 1, method: 'tools/call', params: { name: 'echo' } }); // waits, 0 in flight
    rest2.upstream.emitFromServer({ id: 'mcpmux-test-0', result: {} });
    await flush();
    expect(first.settled).to.equal(true);
    expect(ws2.upstream.written.map((m) => m.id)).to.deep.equal([1]);
    expect(rest2.upstream.written.map((m) => m.id)).to.deep.equal(['mcpmux-test-0']);
    expect(second.settled).to.equal(false);
    await ws2.session.close('session_closed');
    await rest2.session.close('session_closed');
  });

  it('reports why the session ended to a call in flight or waiting: idle_timeout, shutting_down, upstream_exited', async function () {
    const idle = harness({ concurrency: 1 });
    idle.session.attach(sink(true));
    const running = watch(idle.session.request('tools/call', CALL, 1000));
    const waiting = watch(idle.session.request('tools/call', CALL, 1000));
    const cause = new McpmuxError('idle_timeout', 'no traffic for 300000 ms');
    await idle.session.close('idle_timeout', cause);
    expect(running.error).to.equal(cause);
    expect(waiting.error).to.equal(cause);
    expect(idle.outcomes).to.deep.equal(['closed', 'closed']);
    expect(idle.queue.running + idle.queue.waiting).to.equal(0); // the slot is free again
    const after = watch(idle.session.request('tools/call', CALL, 1000));
    await flush();
    expect((after.error as McpmuxError).reason).to.equal('session_closed');

    const shutdown = harness();
    shutdown.session.attach(sink(true));
    const call = watch(shutdown.session.request('tools/call', CALL, 1000));
    await shutdown.session.close('shutting_down');
    expect((call.error as McpmuxError).reason).to.equal('shutting_down');

    const crash = harness();
    const crashCall = watch(crash.session.request('tools/call', CALL, 1000)); // detached: same
    crash.upstream.emit('exit', { code: 3, signal: null, requested: false, stderrTail: ['boom'] });
    await flush();
    const err = crashCall.error as McpmuxError;
    expect(err.reason).to.equal('upstream_exited');
    expect(err.data).to.deep.include({ exit_code: 3, stderr_tail: ['boom'] });
  });

  it('answers a server request during a REST call at once (no_client; ping: {}), leaving the call’s deadline as it was', async function () {
    const h = harness();
    const rest = sink(true);
    h.session.attach(rest);
    const call = watch(h.session.request('tools/call', { name: 'sample' }, 1000));
    h.upstream.emitFromServer({ id: 7, method: 'sampling/createMessage', params: {} });
    h.upstream.emitFromServer({ id: 8, method: 'ping' });
    const answers = h.upstream.written.slice(1);
    expect(answers[0]).to.deep.include({ id: 7 });
    expect(answers[0]!.error).to.deep.include({ code: -32601 });
    expect(answers[0]!.error!.data).to.deep.equal({
      reason: 'no_client',
      method: 'sampling/createMessage',
    });
    expect(answers[0]!.error!.message).to.match(/no MCP client.*sampling\/createMessage/);
    expect(answers[1]).to.deep.equal({ jsonrpc: '2.0', id: 8, result: {} });
    expect(rest.got).to.have.length(0);
    // not "waiting on the client": request_timeout still applies, not just max_request_time
    mock.timers.tick(1000);
    await flush();
    expect((call.error as McpmuxError).reason).to.equal('request_timeout');
  });
  it('keeps the relay’s request when a new client takes over the session or a client cancels its id', async function () {
    const h = harness();
    h.session.attach(sink(false));
    h.fromClient({ id: 0, method: 'initialize', params: {} });
    h.upstream.emitFromServer({ id: 0, result: { protocolVersion: '2025-06-18' } });
    const call = watch(h.session.request('tools/call', CALL, 10_000));
    const relayId = h.upstream.written.at(-1)!.id;
    h.fromClient({ id: 0, method: 'initialize', params: {} }); // a new client: the old one's go
    h.fromClient({ method: 'notifications/cancelled', params: { requestId: relayId } });
    expect(h.upstream.written.filter((m) => m.method === 'notifications/cancelled')).to.deep.equal(
      [],
    );
    h.upstream.emitFromServer({ id: relayId, result: { still: 'here' } });
    await flush();
    expect(call.value).to.deep.equal({ still: 'here' });
  });
});
