// Session over a fake upstream (an EventEmitter standing in for MCPClient): what it writes to the
// server and to its sink, with no process. The real-process cases are in test/integration.

import { expect } from 'chai';
import { decodeMessage } from '../../src/jsonrpc/codec.js';
import type { Classified } from '../../src/jsonrpc/types.js';
import { silentLogger } from '../../src/log.js';
import { RequestQueue } from '../../src/sessions/request-queue.js';
import { Session, type SessionSink, type Upstream } from '../../src/sessions/session.js';
import { FakeUpstream, type Wire } from '../helpers/fake-upstream.js';

function sink(): SessionSink & { got: Wire[] } {
  const got: Wire[] = [];
  return { got, send: (line) => got.push(JSON.parse(line) as Wire), closed: () => undefined };
}

function harness(concurrency = 4) {
  const upstream = new FakeUpstream();
  const queue = new RequestQueue('svc', { concurrency, queueLimit: 16 });
  const session = new Session(upstream as unknown as Upstream, queue, {
    idleTimeoutMs: 0,
    resumeWindowMs: 60_000,
    resumeBufferMessages: 100,
    resumeBufferBytes: 1 << 20,
    logger: silentLogger(),
  });
  const fromClient = (message: Record<string, unknown>) => {
    const text = JSON.stringify({ jsonrpc: '2.0', ...message });
    session.handle(decodeMessage(text) as Classified, text);
  };
  return { upstream, session, fromClient };
}

const flush = async () => {
  for (let i = 0; i < 5; i++) await Promise.resolve();
};

describe('Session (fake upstream)', function () {
  it('frees the slot of a request whose server asks the client, so a ping from the handler runs at concurrency 1', async function () {
    const { upstream, session, fromClient } = harness(1);
    const s = sink();
    session.attach(s);
    fromClient({ id: 1, method: 'tools/call', params: { name: 'sample' } });
    fromClient({ id: 2, method: 'ping' });
    await flush();
    expect(upstream.written.map((m) => m.id)).to.deep.equal([1]);
    upstream.emitFromServer({ id: 0, method: 'sampling/createMessage', params: {} });
    await flush();
    expect(s.got.map((m) => m.method)).to.deep.equal(['sampling/createMessage']);
    expect(upstream.written.map((m) => m.id)).to.deep.equal([1, 2]); // the ping got the slot
    upstream.emitFromServer({ id: 2, result: {} });
    fromClient({ id: 0, result: { content: { type: 'text', text: 'ok' } } });
    upstream.emitFromServer({ id: 1, result: { content: [] } });
    expect(s.got.map((m) => m.id)).to.deep.equal([0, 2, 1]);
    expect(session.inflightCount).to.equal(0);
    await session.close('session_closed');
  });

  it('treats a repeated initialize as a new client: the old requests are cancelled upstream, the new ids are free', async function () {
    const { upstream, session, fromClient } = harness();
    const first = sink();
    session.attach(first);
    fromClient({ id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18' } });
    upstream.emitFromServer({ id: 0, result: { protocolVersion: '2025-06-18' } });
    fromClient({ id: 1, method: 'tools/call', params: { name: 'slow' } });
    upstream.emitFromServer({ id: 7, method: 'elicitation/create', params: {} });
    session.detach();

    const second = sink();
    session.attach(second);
    fromClient({ id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18' } });
    expect(second.got).to.deep.equal([
      { jsonrpc: '2.0', id: 0, result: { protocolVersion: '2025-06-18' } },
    ]);
    const afterInit = upstream.written.slice(2);
    expect(afterInit).to.deep.include({
      jsonrpc: '2.0',
      method: 'notifications/cancelled',
      params: { requestId: 1, reason: 'the client was replaced' },
    });
    expect(afterInit.find((m) => m.id === 7)?.error?.message).to.match(/gone/);
    fromClient({ id: 1, method: 'tools/call', params: { name: 'echo' } });
    expect(second.got.map((m) => m.error?.message)).to.deep.equal([undefined]); // no "already in use"
    expect(upstream.written.at(-1)).to.include({ id: 1, method: 'tools/call' });
    await session.close('session_closed');
  });

  it("hands the sink each server message's parsed form with its line (no second parse), none for the relay's own", async function () {
    const { upstream, session, fromClient } = harness();
    const seen: { line: string; decoded: Classified | undefined }[] = [];
    session.attach({ send: (line, decoded) => seen.push({ line, decoded }), closed: () => {} });
    fromClient({
      id: 1,
      method: 'tools/call',
      params: { name: 'x', _meta: { progressToken: 't' } },
    });
    await flush();
    upstream.emitFromServer({ method: 'notifications/progress', params: { progressToken: 't' } });
    upstream.emitFromServer({ id: 5, method: 'roots/list' });
    upstream.emitFromServer({ id: 1, result: {} });
    fromClient({ id: 1, method: 'tools/call', params: { name: 'x' } });
    await flush();
    await session.close('session_closed'); // request 1 (again) fails: the relay's own line
    expect(seen.map((s) => s.decoded?.kind)).to.deep.equal([
      'notification',
      'request',
      'response',
      undefined,
    ]);
    for (const { line, decoded } of seen.slice(0, 3)) {
      expect(decoded!.message).to.deep.equal(JSON.parse(line));
    }
  });

  describe('a resume: when the output buffered while detached is delivered', function () {
    /** An initialized session whose request 1 is answered, with a progress, while detached. */
    async function detachedWithBacklog() {
      const h = harness();
      session0(h);
      h.fromClient({
        id: 1,
        method: 'tools/call',
        params: { name: 'slow', _meta: { progressToken: 1 } },
      });
      await flush();
      h.session.detach();
      h.upstream.emitFromServer({
        method: 'notifications/progress',
        params: { progressToken: 1, progress: 1 },
      });
      h.upstream.emitFromServer({ id: 1, result: { content: [] } });
      return h;
    }
    function session0(h: ReturnType<typeof harness>) {
      h.session.attach(sink());
      h.fromClient({ id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18' } });
      h.upstream.emitFromServer({ id: 0, result: { protocolVersion: '2025-06-18' } });
    }

    it('replay now: at the re-attach, in order (the same client continuing)', async function () {
      const { session } = await detachedWithBacklog();
      const again = sink();
      session.attach(again);
      expect(again.got.map((m) => m.method ?? m.id)).to.deep.equal(['notifications/progress', 1]);
      await session.close('session_closed');
    });

    it('hold, first message not initialize: the backlog first, in order, then its answer', async function () {
      const { session, upstream, fromClient } = await detachedWithBacklog();
      const again = sink();
      session.attach(again, true);
      upstream.emitFromServer({ method: 'notifications/message', params: { data: 'live' } });
      expect(again.got).to.deep.equal([]); // held until the client speaks
      fromClient({ id: 'p', method: 'ping' });
      await flush();
      upstream.emitFromServer({ id: 'p', result: {} });
      const got = again.got.map((m) => m.method ?? m.id);
      expect(got).to.deep.equal(['notifications/progress', 1, 'notifications/message', 'p']);
      await session.close('session_closed');
    });

    it('hold, first message initialize (a new client): none of the old output reaches it', async function () {
      const { session, upstream, fromClient } = await detachedWithBacklog();
      const again = sink();
      session.attach(again, true);
      upstream.emitFromServer({ id: 9, method: 'roots/list' }); // asks the old client, held
      fromClient({ id: 0, method: 'initialize', params: { protocolVersion: '2025-06-18' } });
      expect(again.got).to.deep.equal([
        { jsonrpc: '2.0', id: 0, result: { protocolVersion: '2025-06-18' } },
      ]);
      // the server's question to the old client is answered for it, with an error
      expect(upstream.written.find((m) => m.id === 9)?.error?.message).to.match(/gone/);
      await session.close('session_closed');
    });
  });
});
