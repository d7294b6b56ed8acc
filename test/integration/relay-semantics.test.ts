// Relay semantics (SPEC §4, §6), written once and run against both endpoints.
import { expect } from 'chai';
import { fixtureService } from '../helpers/config.js';
import type { ResumeReplay } from '../../src/channel/envelope.js';
import { openChannel, type ChannelDriver, type Mode } from '../helpers/drivers.js';
import { INIT_PARAMS, startRelay, type TestRelay } from '../helpers/relay.js';
import { isAlive, serverPidByCwd, waitFor } from '../helpers/processes.js';
import { resultText, toolCall } from '../helpers/jsonrpc.js';

const call = toolCall;
const textOf = resultText;

async function handshake(ch: ChannelDriver): Promise<any> {
  ch.send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: INIT_PARAMS });
  const init = await ch.next();
  ch.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return init;
}

for (const mode of ['direct', 'mux'] as Mode[]) {
  describe(`relay semantics over ${mode === 'direct' ? '/mcp/{service}' : '/ws'}`, function () {
    let relay: TestRelay;
    const channels: ChannelDriver[] = [];
    const open = async (service = 'fixture', resume?: string, replay?: ResumeReplay) => {
      const ch = await openChannel(mode, relay, service, resume, replay);
      channels.push(ch);
      return ch;
    };

    async function start(services: Parameters<typeof startRelay>[0], options = {}) {
      relay = await startRelay(services, options);
    }

    afterEach(async () => {
      for (const ch of channels.splice(0)) ch.cursor.ws.terminate();
      await relay?.close();
    });

    it('relays initialize and tool calls, ids keeping their type (0, "0", strings)', async function () {
      await start({ fixture: fixtureService() });
      const ch = await open();
      const init = await handshake(ch);
      expect(init.id).to.equal('init');
      expect(init.result.serverInfo.name).to.equal('fixture');
      ch.send(call(0, 'echo', { text: 'zero' }));
      const r0 = await ch.next();
      expect(r0.id).to.equal(0);
      expect(textOf(r0)).to.equal('zero');
      ch.send(call('0', 'echo', { text: 'string zero' }));
      const r1 = await ch.next();
      expect(r1.id).to.equal('0');
      expect(textOf(r1)).to.equal('string zero');
    });

    it('answers invalid frames itself and forwards none of them', async function () {
      await start({ fixture: fixtureService() });
      const ch = await open();
      await handshake(ch);
      const cases: [string, number, unknown][] = [
        ['{not json', -32700, undefined],
        ['[{"jsonrpc":"2.0","id":1,"method":"ping"}]', -32600, undefined],
        ['{"jsonrpc":"2.0","id":null,"method":"ping"}', -32600, undefined],
        ['{"jsonrpc":"2.0","id":1.5,"method":"ping"}', -32600, undefined],
        ['{"jsonrpc":"2.0","id":7,"method":"ping","extra":true}', -32600, 7],
        ['{"id":8,"method":"ping"}', -32600, 8],
        ['"just a string"', -32600, undefined],
      ];
      for (const [frame, code, id] of cases) {
        if (mode === 'mux' && code === -32700) {
          ch.cursor.send('{"type":"message","channel":"c1","message":{not json}');
          const env = await ch.cursor.next();
          expect(env.type, frame).to.equal('error');
          expect(env.reason).to.equal('bad_envelope');
          continue;
        }
        ch.send(frame);
        const reply = await ch.next();
        expect(reply.error.code, frame).to.equal(code);
        expect(reply.error.data.reason).to.equal(
          code === -32700 ? 'parse_error' : 'invalid_request',
        );
        if (id === undefined) expect(reply, frame).not.to.have.property('id');
        else expect(reply.id, frame).to.equal(id);
      }
      // nothing reached the server: it still works, and saw no stray message
      ch.send(call(1, 'echo', { text: 'after' }));
      expect(textOf(await ch.next())).to.equal('after');
    });

    it('gives two channels two processes that never see each other (equal ids)', async function () {
      await start({ fixture: fixtureService() });
      const a = await open();
      const b = await open();
      expect(a.sessionId).not.to.equal(b.sessionId);
      await Promise.all([handshake(a), handshake(b)]);
      a.send(call(1, 'cwd')); // its session dir (the pid is 2 in each PID namespace)
      b.send(call(1, 'cwd'));
      const [pa, pb] = [textOf(await a.next()), textOf(await b.next())];
      expect(pa).not.to.equal(pb);
      a.send(call(2, 'echo', { text: 'for a' }));
      b.send(call(2, 'echo', { text: 'for b' }));
      expect(textOf(await a.next())).to.equal('for a');
      expect(textOf(await b.next())).to.equal('for b');
    });

    it('fails in-flight requests at once when the server crashes, then closes the channel', async function () {
      await start({ fixture: fixtureService() });
      const ch = await open();
      await handshake(ch);
      ch.send(call(1, 'slow', { ms: 30000 }));
      const started = Date.now();
      ch.send(call(2, 'crash', { code: 9 }));
      const errors = [await ch.next(), await ch.next()];
      expect(Date.now() - started).to.be.lessThan(1000);
      expect(errors.map((e) => e.id).sort()).to.deep.equal([1, 2]);
      for (const e of errors) {
        expect(e.error.data.reason).to.equal('upstream_exited');
        expect(e.error.data.exit_code).to.equal(9);
        expect(e.error.data.stderr_tail).to.include('crashing now');
      }
      expect(await ch.closed()).to.equal('upstream_exited');
    });

    it('refuses a request past queue_limit with queue_full and retry_after_ms', async function () {
      await start({ fixture: fixtureService([], { concurrency: 1, queue_limit: 1 }) });
      const ch = await open();
      await handshake(ch);
      ch.send(call(1, 'slow', { ms: 30000 }));
      ch.send(call(2, 'slow', { ms: 30000 }));
      ch.send(call(3, 'echo', { text: 'refused' }));
      const refused = await ch.next();
      expect(refused.id).to.equal(3);
      expect(refused.error.code).to.equal(-32000);
      expect(refused.error.data.reason).to.equal('queue_full');
      expect(refused.error.data.retry_after_ms).to.be.a('number').greaterThan(0);
    });

    it('times a request out with -32001 and cancels it upstream', async function () {
      // request_timeout bounds the handshake too: room for the server's start on a loaded machine
      await start({ fixture: fixtureService([], { request_timeout: 1 }) });
      const ch = await open();
      await handshake(ch);
      ch.send(call(41, 'slow', { ms: 30000 }));
      const timedOut = await ch.next();
      expect(timedOut.id).to.equal(41);
      expect(timedOut.error.code).to.equal(-32001);
      expect(timedOut.error.data.reason).to.equal('request_timeout');
      ch.send(call(42, 'cancelled-ids'));
      expect(JSON.parse(textOf(await ch.next()))).to.deep.equal([41]);
    });

    it('removes a cancelled request from the queue: it never reaches the server', async function () {
      await start({ fixture: fixtureService([], { concurrency: 1 }) });
      const ch = await open();
      await handshake(ch);
      ch.send(call(1, 'slow', { ms: 30000 }));
      ch.send(call(2, 'echo', { text: 'never' }));
      ch.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 2 } });
      ch.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
      ch.send(call(3, 'cancelled-ids'));
      const reply = await ch.next();
      expect(reply.id).to.equal(3);
      expect(JSON.parse(textOf(reply))).to.deep.equal([1]);
    });

    it('drops late progress after a cancel', async function () {
      await start({ fixture: fixtureService() });
      const ch = await open();
      await handshake(ch);
      ch.send(call(1, 'progress-ignore-cancel', { steps: 4, ms: 40 }, { progressToken: 'tok' }));
      const first = await ch.next();
      expect(first.method).to.equal('notifications/progress');
      ch.send({ jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } });
      // the fixture keeps sending progress for ~120 ms more; a slower call outlives it
      ch.send(call(2, 'slow', { ms: 400, text: 'later' }));
      const { match, skipped } = await ch.until((m) => m.id === 2);
      expect(textOf(match)).to.equal('later');
      expect(skipped).to.deep.equal([]);
    });

    it('lets a tool that asks for sampling finish at concurrency 1 (no deadlock)', async function () {
      await start({ fixture: fixtureService([], { concurrency: 1 }) });
      const ch = await open();
      await handshake(ch);
      ch.send(call(1, 'sample', { prompt: 'hi' }));
      const request = await ch.next();
      expect(request.method).to.equal('sampling/createMessage');
      ch.send({
        jsonrpc: '2.0',
        id: request.id,
        result: { role: 'assistant', model: 'm', content: { type: 'text', text: 'answer' } },
      });
      const done = await ch.next();
      expect(done.id).to.equal(1);
      expect(textOf(done)).to.equal('answer');
    });

    it('closes an idle session with idle_timeout and stops its process', async function () {
      await start({ fixture: fixtureService([], { idle_timeout: 0.3 }) });
      const ch = await open();
      await handshake(ch);
      ch.send(call(1, 'cwd'));
      const pid = serverPidByCwd(textOf(await ch.next()));
      expect(await ch.closed()).to.equal('idle_timeout');
      await waitFor(() => !isAlive(pid), 5000, 'idle process to exit');
    });

    /** A session whose request 1 reported 4 progress and was answered while nobody was attached. */
    async function droppedWithBacklog() {
      await start({ fixture: fixtureService() });
      const ch = await open();
      const init = await handshake(ch);
      ch.send(call(1, 'progress', { steps: 4, ms: 30 }, { progressToken: 'p' }));
      ch.drop();
      // the server finishes while nobody is attached; resume afterwards
      await waitFor(
        () => {
          const s = relay.relay.registry.get(ch.sessionId);
          return s?.state === 'detached' && s.inflightCount === 0;
        },
        5000,
        'request to finish while detached',
      );
      return { ch, init };
    }

    it('resumes a dropped session with replay=now: messages sent meanwhile arrive at once, in order, initialize from memory', async function () {
      const { ch, init } = await droppedWithBacklog();
      const again = await open('fixture', ch.resumeToken, 'now');
      expect(again.sessionId).to.equal(ch.sessionId);
      const got = [];
      for (let i = 0; i < 5; i++) got.push(await again.next());
      expect(got.slice(0, 4).map((m) => m.params.progress)).to.deep.equal([1, 2, 3, 4]);
      expect(got[4].id).to.equal(1);
      again.send({ jsonrpc: '2.0', id: 'init2', method: 'initialize', params: INIT_PARAMS });
      const reinit = await again.next();
      expect(reinit.id).to.equal('init2');
      expect(reinit.result).to.deep.equal(init.result);
    });

    it('resumes in the default replay mode, first message not initialize: the buffered output first, in order, then its answer', async function () {
      const { ch } = await droppedWithBacklog();
      const again = await open('fixture', ch.resumeToken);
      again.send({ jsonrpc: '2.0', id: 'first', method: 'ping' });
      const got = [];
      for (let i = 0; i < 6; i++) got.push(await again.next());
      expect(got.slice(0, 4).map((m) => m.params.progress)).to.deep.equal([1, 2, 3, 4]);
      expect(got.slice(4).map((m) => m.id)).to.deep.equal([1, 'first']);
    });

    it('resumes in the default replay mode, first message initialize (a new client): the buffered output is dropped', async function () {
      const { ch, init } = await droppedWithBacklog();
      const again = await open('fixture', ch.resumeToken);
      again.send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: INIT_PARAMS });
      const reinit = await again.next();
      expect(reinit).to.deep.include({ id: 0, result: init.result }); // nothing of the old client first
      again.send({ jsonrpc: '2.0', id: 1, method: 'ping' });
      expect(await again.next()).to.deep.include({ id: 1, result: {} });
    });

    it('answers a server request at once with an error while no channel is attached', async function () {
      await start({ fixture: fixtureService() });
      const ch = await open();
      await handshake(ch);
      ch.send(call(1, 'slow', { ms: 200 })); // keeps the session busy across the drop
      ch.drop();
      const session = relay.relay.registry.get(ch.sessionId)!;
      await waitFor(() => session.state === 'detached', 5000, 'session to detach');
      session.client.sendRaw(JSON.stringify(call('relay-made', 'sample', { prompt: 'x' })));
      const reply = await new Promise<any>((resolve) =>
        session.client.once('response', (m) => resolve(m)),
      );
      expect(reply.result.content[0].text).to.match(/^sampling error: no client is attached/);
    });

    it('stops reading the client while the server does not read its stdin (bounded buffer)', async function () {
      await start({ fixture: fixtureService() });
      const ch = await open();
      await handshake(ch);
      ch.send(call(1, 'pause-stdin', { ms: 1000 }));
      expect(textOf(await ch.next())).to.equal('paused');
      const session = relay.relay.registry.get(ch.sessionId)!;
      const blob = 'x'.repeat(256 * 1024);
      for (let i = 0; i < 200; i++) {
        ch.send({ jsonrpc: '2.0', method: 'notifications/test/blob', params: { i, blob } });
      }
      ch.send(call(2, 'echo', { text: 'after 50 MB' }));
      let peak = 0;
      const reply = ch.next(20000);
      let answered = false;
      void reply.then(
        () => (answered = true),
        () => (answered = true),
      );
      await waitFor(
        () => {
          peak = Math.max(peak, session.client.stdinBufferedBytes);
          return answered;
        },
        20000,
        'echo after the server resumed reading',
      );
      expect(textOf(await reply)).to.equal('after 50 MB');
      expect(peak).to.be.greaterThan(0);
      expect(peak).to.be.lessThan(8 * 1024 * 1024);
    });

    it('closes the channel with session_limit when the service is full', async function () {
      await start({ fixture: fixtureService() }, { session: { max_sessions_per_service: 1 } });
      await open();
      if (mode === 'direct') {
        const { WsCursor } = await import('../helpers/relay.js');
        const c = await WsCursor.connect(relay.ws('/mcp/fixture'), 'mcp');
        expect((await c.expectClose()).code).to.equal(4005);
      } else {
        const { WsCursor } = await import('../helpers/relay.js');
        const c = await WsCursor.connect(relay.ws('/ws'), 'mcpmux.v1');
        c.send({ type: 'open', channel: 'x', service: 'fixture' });
        const env = await c.next();
        expect(env).to.include({ type: 'error', channel: 'x', reason: 'session_limit' });
        c.close();
      }
    });
  });
}
