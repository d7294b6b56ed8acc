// Issue 17, fixes 6-8 against a real relay: /ws forwards the inner message's bytes both ways;
// only the secret resume token resumes a session (never its listed id); a peer that stops
// answering pings is dropped and its session waits for a resume.
import { join } from 'node:path';
import { expect } from 'chai';
import { WebSocket } from 'ws';
import { ROOT, serviceConfig } from '../helpers/config.js';
import { resultText, toolCall } from '../helpers/jsonrpc.js';
import { waitFor } from '../helpers/processes.js';
import { startRelay, WsCursor, type TestRelay } from '../helpers/relay.js';

const REPLAY_SERVER = join(ROOT, 'test/fixtures/replay-server.mjs');
/** What JSON.parse + JSON.stringify would change: big integer, 1.0, -0, an escape, a duplicate key. */
const ODD = '{"big":12345678901234567890,"f":1.0,"z":-0,"e":"\\u00e9","d":1,"d":2}';

describe('/ws bytes, resume tokens, heartbeat (issue 17)', function () {
  this.timeout(20_000);
  let relay: TestRelay | undefined;
  const cursors: WsCursor[] = [];

  async function start(options = {}) {
    relay = await startRelay({ replay: serviceConfig(['node', REPLAY_SERVER]) }, options);
    return relay;
  }

  async function mux(service = 'replay', resume?: string) {
    const c = await WsCursor.connect(relay!.ws('/ws'), 'mcpmux.v1');
    cursors.push(c);
    // a resume here is the same client continuing: its buffered output at once (replay now)
    const resuming = resume !== undefined && { resume, replay: 'now' };
    c.send({ type: 'open', channel: 'c1', service, ...resuming });
    return { c, opened: await c.next() };
  }

  afterEach(async () => {
    for (const c of cursors.splice(0)) c.ws.terminate();
    await relay?.close();
    relay = undefined;
  });

  describe('bytes-in = bytes-out on /ws', function () {
    it('the server reads the inner message exactly as the client wrote it', async function () {
      await start();
      const { c } = await mux();
      const inner = `{"jsonrpc":"2.0","id":7,"method":"tools/call","params":{"name":"raw","arguments":${ODD}}}`;
      c.send(`{"type":"message","channel":"c1","message":${inner}}`);
      const env = await c.next();
      expect(resultText(env.message)).to.equal(inner);
    });

    it('an inner message spread over lines reaches the server on one line, tokens intact', async function () {
      await start();
      const { c } = await mux();
      const inner = `{"jsonrpc":"2.0",\r\n"id":8,\n"method":"tools/call","params":{"name":"raw","arguments":${ODD}}}`;
      c.send(`{"type":"message","channel":"c1","message":${inner}}`);
      const env = await c.next();
      expect(resultText(env.message)).to.equal(inner.replace(/[\r\n]/g, ' '));
    });

    it('the client reads the server line exactly as the server wrote it', async function () {
      await start();
      const { c } = await mux();
      const line = `{"jsonrpc":"2.0","method":"notifications/message","params":{"level":"info","data":${ODD}}}`;
      c.send({
        type: 'message',
        channel: 'c1',
        message: toolCall(1, 'replay', { chunks: [line + '\n'] }),
      });
      expect(await c.nextText()).to.equal(`{"type":"message","channel":"c1","message":${line}}`);
      expect(resultText((await c.next()).message)).to.equal('replayed');
    });

    it('keeps the nesting limit: a deep inner message is -32600 and never forwarded', async function () {
      await start();
      const { c } = await mux();
      const deep = '['.repeat(70) + ']'.repeat(70);
      const inner = `{"jsonrpc":"2.0","id":9,"method":"tools/call","params":{"name":"raw","arguments":{"x":${deep}}}}`;
      c.send(`{"type":"message","channel":"c1","message":${inner}}`);
      const env = await c.next();
      expect(env.message.error).to.include({ code: -32600 });
      expect(env.message.error.data.reason).to.equal('invalid_request');
    });
  });

  describe('resume token', function () {
    it('is given only to the opener: <node_id>.<256-bit secret>, never in GET /sessions', async function () {
      await start();
      const { opened } = await mux();
      expect(opened.resume_token).to.match(/^test-node\.[A-Za-z0-9_-]{43}$/);
      const direct = await WsCursor.connect(relay!.ws('/mcp/replay'), 'mcp');
      cursors.push(direct);
      const token = direct.headers['mcpmux-resume-token']!;
      expect(token).to.match(/^test-node\.[A-Za-z0-9_-]{43}$/);
      expect(token).to.not.equal(opened.resume_token);
      const listed = await (await fetch(`${relay!.url}/sessions`)).text();
      expect(listed).to.include(opened.session);
      expect(listed).to.not.include(opened.resume_token.split('.')[1]);
      expect(listed).to.not.include(token.split('.')[1]);
    });

    for (const endpoint of ['/ws', '/mcp'] as const) {
      it(`over ${endpoint}, a second client that knows only the session id cannot resume nor read the buffered reply`, async function () {
        const r = await start();
        // the victim starts a call and drops; the reply waits in the detached session's buffer
        const { c: victim, opened } = await mux();
        victim.send({ type: 'message', channel: 'c1', message: toolCall(1, 'raw') });
        const session = r.relay.registry.get(opened.session)!;
        await waitFor(() => session.inflightCount === 0, 5000, 'the reply');
        victim.ws.terminate();
        await waitFor(() => session.state === 'detached', 5000, 'the session to detach');
        // the attacker reads the id from GET /sessions and tries every way of resuming with it
        const sessions = (await (await fetch(`${r.url}/sessions`)).json()) as object;
        expect(Object.keys(sessions)).to.include(opened.session);
        if (endpoint === '/ws') {
          const a = await WsCursor.connect(r.ws('/ws'), 'mcpmux.v1');
          cursors.push(a);
          a.send({ type: 'open', channel: 'a', service: 'replay', session: opened.session });
          expect(await a.next()).to.include({ type: 'error', reason: 'bad_envelope' });
          a.send({ type: 'open', channel: 'b', service: 'replay', resume: opened.session });
          expect(await a.next()).to.include({ type: 'error', reason: 'unknown_session' });
          const guess = `test-node.${opened.session}`;
          a.send({ type: 'open', channel: 'c', service: 'replay', resume: guess });
          expect(await a.next()).to.include({ type: 'error', reason: 'unknown_session' });
        } else {
          const byId = WsCursor.connect(r.ws(`/mcp/replay?session=${opened.session}`), 'mcp');
          await byId.then(
            () => expect.fail('a session id resumed'),
            (err: unknown) => expect((err as Error).message).to.match(/HTTP 400/),
          );
          const a = await WsCursor.connect(r.ws(`/mcp/replay?resume=${opened.session}`), 'mcp');
          cursors.push(a);
          expect((await a.expectClose()).code).to.equal(4009); // unknown_session
        }
        expect(session.state).to.equal('detached');
        // the owner's token still resumes, and the buffered reply is delivered to it alone
        const { c: owner, opened: again } = await mux('replay', opened.resume_token);
        expect(again).to.include({ type: 'opened', session: opened.session, resumed: true });
        const reply = await owner.next();
        expect(reply.message.id).to.equal(1);
      });
    }
  });

  describe('heartbeat', function () {
    for (const endpoint of ['/ws', '/mcp'] as const) {
      it(`over ${endpoint}, drops a peer that does not answer pings; its session waits for a resume`, async function () {
        const r = await start({ server: { heartbeat_interval: 0.3 } });
        const url = endpoint === '/ws' ? r.ws('/ws') : r.ws('/mcp/replay');
        const protocol = endpoint === '/ws' ? 'mcpmux.v1' : 'mcp';
        // a live peer (ws answers pings by itself) stays across several pings
        const live = new WebSocket(url, protocol);
        let pings = 0;
        live.on('ping', () => pings++);
        await new Promise((resolve) => live.once('open', resolve));
        // a silent peer: autoPong off, as if its network had gone
        const silent = new WebSocket(url, protocol, { autoPong: false });
        let sessionId = '';
        silent.once('upgrade', (res) => (sessionId = String(res.headers['mcpmux-session'] ?? '')));
        const closed = new Promise<number>((resolve) => silent.once('close', resolve));
        silent.on('error', () => undefined);
        await new Promise((resolve) => silent.once('open', resolve));
        if (endpoint === '/ws') {
          silent.send(JSON.stringify({ type: 'open', channel: 'c1', service: 'replay' }));
          const opened = await new Promise<any>((resolve) =>
            silent.once('message', (d: Buffer) => resolve(JSON.parse(d.toString()))),
          );
          sessionId = opened.session;
        }
        const session = r.relay.registry.get(sessionId)!;
        expect(session.state).to.equal('attached');
        expect(await closed).to.equal(1006); // terminated by the relay, no close frame
        await waitFor(() => session.state === 'detached', 5000, 'the session to detach');
        await waitFor(() => pings >= 3, 5000, 'three pings to the live peer');
        expect(live.readyState).to.equal(WebSocket.OPEN);
        live.terminate();
      });
    }
  });
});
