// Relay limits and the edges of both WebSocket endpoints (SPEC §5, §6 backpressure, §7 health,
// §8 close codes, §9 limits): binary and oversized frames, unknown services and paths, /ws envelope
// errors, channel and connection limits, a slow consumer against a flooding server.
import type { Socket } from 'node:net';
import { expect } from 'chai';
import { fixtureService } from '../helpers/config.js';
import { hostInfo } from '../../src/sandbox/host.js';
import { isAlive, serverPidByCwd, waitFor } from '../helpers/processes.js';
import { INIT_PARAMS, startRelay, WsCursor, type TestRelay } from '../helpers/relay.js';
import { resultText, toolCall } from '../helpers/jsonrpc.js';
import {
  captureLogs,
  http,
  rawConnect,
  refusedUpgrade,
  type RawConnection,
} from '../helpers/http.js';

const call = toolCall;
const textOf = resultText;

/** initialize + notifications/initialized on a direct connection. */
async function handshakeDirect(c: WsCursor): Promise<any> {
  c.send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: INIT_PARAMS });
  const init = await c.next();
  expect(init.id).to.equal('init');
  c.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
  return init;
}

const envMessage = (channel: string, message: unknown) => ({ type: 'message', channel, message });

/** Opens `channel` on a /ws connection and does the MCP handshake on it. */
async function openMuxChannel(c: WsCursor, channel: string, service = 'fixture'): Promise<string> {
  c.send({ type: 'open', channel, service });
  const { match: opened } = await c.until((e) => e.channel === channel && e.type !== 'message');
  expect(opened, JSON.stringify(opened)).to.include({ type: 'opened', channel });
  c.send(
    envMessage(channel, { jsonrpc: '2.0', id: 'init', method: 'initialize', params: INIT_PARAMS }),
  );
  const { match: init } = await c.until((e) => e.channel === channel && e.type === 'message');
  expect(init.message.id).to.equal('init');
  c.send(envMessage(channel, { jsonrpc: '2.0', method: 'notifications/initialized' }));
  return opened.session;
}

/** An upgrade that must be refused, offering `protocol`. */
const refused = (url: string, protocol?: string) =>
  refusedUpgrade(url, protocol === undefined ? {} : { 'Sec-WebSocket-Protocol': protocol });

/**
 * Resolves once `count()` has grown and then stayed the same for `quietMs` (the server's output
 * stalled), calling `sample` on every poll.
 */
async function waitForStall(
  count: () => number,
  what: string,
  sample: () => void = () => undefined,
  quietMs = 750,
): Promise<number> {
  let last = -1;
  let lastChange = Date.now();
  await waitFor(
    () => {
      sample();
      const now = count();
      if (now !== last) {
        last = now;
        lastChange = Date.now();
        return false;
      }
      return now > 0 && Date.now() - lastChange >= quietMs;
    },
    60_000,
    what,
  );
  return last;
}

describe('relay limits and endpoint edges', function () {
  let relay: TestRelay | undefined;
  const cursors: WsCursor[] = [];

  async function start(...args: Parameters<typeof startRelay>): Promise<TestRelay> {
    relay = await startRelay(...args);
    return relay;
  }
  async function direct(service = 'fixture'): Promise<WsCursor> {
    const c = await WsCursor.connect(relay!.ws(`/mcp/${service}`), 'mcp');
    cursors.push(c);
    return c;
  }
  async function mux(): Promise<WsCursor> {
    const c = await WsCursor.connect(relay!.ws('/ws'), 'mcpmux.v1');
    cursors.push(c);
    return c;
  }

  afterEach(async function () {
    for (const c of cursors.splice(0)) {
      (c.ws as any)._socket?.resume();
      c.ws.terminate();
    }
    await relay?.close();
    relay = undefined;
  });

  describe('frames', function () {
    it('closes a direct connection with 1003 on a binary frame', async function () {
      await start({ fixture: fixtureService() });
      const c = await direct();
      await handshakeDirect(c);
      c.ws.send(Buffer.from('{"jsonrpc":"2.0","id":1,"method":"ping"}'), { binary: true });
      expect((await c.expectClose()).code).to.equal(1003);
    });

    it('closes a /ws connection with 1003 on a binary frame', async function () {
      await start({ fixture: fixtureService() });
      const c = await mux();
      await openMuxChannel(c, 'c1');
      c.ws.send(Buffer.from('{"type":"close","channel":"c1"}'), { binary: true });
      expect((await c.expectClose()).code).to.equal(1003);
    });

    it('closes a direct connection with 1009 on a frame over max_message_bytes; the process still ends', async function () {
      const r = await start(
        { fixture: fixtureService() },
        { server: { max_message_bytes: 65536 } },
      );
      const c = await direct();
      const sessionId = c.headers['mcpmux-session']!;
      expect(sessionId).to.be.a('string').that.is.not.empty;
      await handshakeDirect(c);
      c.send(call(1, 'cwd'));
      const pid = serverPidByCwd(textOf(await c.next()));
      expect(isAlive(pid)).to.equal(true);
      // a frame just under the limit passes
      c.send(call(2, 'echo', { text: 'y'.repeat(60_000) }));
      expect(textOf(await c.next())).to.have.length(60_000);
      c.send(call(3, 'echo', { text: 'x'.repeat(70_000) }));
      const closed = await c.expectClose();
      expect(closed.code).to.equal(1009);
      expect(closed.reason).to.equal('message_too_large: a frame over 65536 bytes');
      // the session is detached (waiting for a resume) or closed, never left attached
      await waitFor(
        () => {
          const s = r.relay.registry.get(sessionId);
          return s === undefined || s.state !== 'attached';
        },
        5000,
        'the session to let go of the closed connection',
      );
      await r.close();
      relay = undefined;
      await waitFor(() => !isAlive(pid), 5000, 'the server process to exit');
    });

    it('closes a /ws connection with 1009 on a frame over max_message_bytes', async function () {
      await start({ fixture: fixtureService() }, { server: { max_message_bytes: 65536 } });
      const c = await mux();
      await openMuxChannel(c, 'c1');
      c.send(envMessage('c1', call(1, 'echo', { text: 'x'.repeat(70_000) })));
      const closed = await c.expectClose();
      expect(closed.code).to.equal(1009);
      expect(closed.reason).to.equal('message_too_large: a frame over 65536 bytes');
    });
  });

  describe('unknown services and paths', function () {
    it('refuses /mcp/nope and a disabled service with HTTP 404 at the upgrade', async function () {
      await start({ fixture: fixtureService(), off: fixtureService([], { enabled: false }) });
      const nope = await refused(relay!.ws('/mcp/nope'), 'mcp');
      expect(nope.status).to.equal(404);
      expect(nope.body.reason).to.equal('unknown_service');
      const off = await refused(relay!.ws('/mcp/off'), 'mcp');
      expect(off.status).to.equal(404);
      expect(off.body.reason).to.equal('service_disabled');
      // nothing was spawned for either
      expect(relay!.relay.registry.size).to.equal(0);
    });

    it('refuses a ?replay= that is not "now" or "hold" with HTTP 400 at the upgrade', async function () {
      await start({ fixture: fixtureService() });
      const bad = await refused(relay!.ws('/mcp/fixture?resume=x.y&replay=later'), 'mcp');
      expect(bad.status).to.equal(400);
      expect(bad.body.reason).to.equal('bad_input');
      expect(relay!.relay.registry.size).to.equal(0);
    });

    it('answers 404 for an unknown path, as an upgrade and as a plain request', async function () {
      await start({ fixture: fixtureService() });
      const up = await refused(relay!.ws('/foo'));
      expect(up.status).to.equal(404);
      expect(up.body.reason).to.equal('not_found');
      const res = await fetch(`${relay!.url}/foo`);
      expect(res.status).to.equal(404);
      expect(((await res.json()) as any).reason).to.equal('not_found');
    });

    it('answers an /ws open of an unknown service with an error envelope; the connection stays usable', async function () {
      await start({ fixture: fixtureService(), off: fixtureService([], { enabled: false }) });
      const c = await mux();
      c.send({ type: 'open', channel: 'a', service: 'nope' });
      expect(await c.next()).to.include({ type: 'error', channel: 'a', reason: 'unknown_service' });
      c.send({ type: 'open', channel: 'b', service: 'off' });
      expect(await c.next()).to.include({
        type: 'error',
        channel: 'b',
        reason: 'service_disabled',
      });
      // the refused name is free again, and the connection works
      await openMuxChannel(c, 'a');
      c.send(envMessage('a', call(1, 'echo', { text: 'still here' })));
      const reply = await c.next();
      expect(reply).to.include({ type: 'message', channel: 'a' });
      expect(textOf(reply.message)).to.equal('still here');
    });
  });

  describe('/ws envelopes', function () {
    it('answers bad envelopes with error envelopes and keeps the connection open', async function () {
      await start({ fixture: fixtureService() });
      const c = await mux();
      const cases: [string, string, string | undefined][] = [
        ['{not json', 'bad_envelope', undefined],
        ['[1,2]', 'bad_envelope', undefined],
        ['{"type":"frobnicate","channel":"c1"}', 'bad_envelope', 'c1'],
        ['{"type":"open","service":"fixture"}', 'bad_envelope', undefined],
        ['{"type":"message","message":{"jsonrpc":"2.0","method":"x"}}', 'bad_envelope', undefined],
        [
          '{"type":"message","channel":"ghost","message":{"jsonrpc":"2.0","id":1,"method":"ping"}}',
          'unknown_channel',
          'ghost',
        ],
        ['{"type":"close","channel":"ghost"}', 'unknown_channel', 'ghost'],
      ];
      for (const [frame, reason, channel] of cases) {
        c.send(frame);
        const env = await c.next();
        expect(env.type, frame).to.equal('error');
        expect(env.reason, frame).to.equal(reason);
        expect(env.message, frame).to.be.a('string').that.is.not.empty;
        if (channel === undefined) expect(env, frame).not.to.have.property('channel');
        else expect(env.channel, frame).to.equal(channel);
      }
      expect(c.ws.readyState).to.equal(c.ws.OPEN);
      // still usable
      await openMuxChannel(c, 'c1');
      c.send(envMessage('c1', call(1, 'echo', { text: 'ok' })));
      expect(textOf((await c.next()).message)).to.equal('ok');
    });

    it('refuses a duplicate open with channel_exists, leaving the first channel working', async function () {
      await start({ fixture: fixtureService() });
      const c = await mux();
      c.send({ type: 'open', channel: 'c1', service: 'fixture' });
      c.send({ type: 'open', channel: 'c1', service: 'fixture' });
      const first = [await c.next(), await c.next()];
      const error = first.find((e) => e.type === 'error');
      const opened = first.find((e) => e.type === 'opened');
      expect(error, JSON.stringify(first)).to.include({ channel: 'c1', reason: 'channel_exists' });
      expect(opened, JSON.stringify(first)).to.include({ channel: 'c1' });
      // once open, a second open of the same name is refused too
      c.send({ type: 'open', channel: 'c1', service: 'fixture' });
      expect(await c.next()).to.include({ type: 'error', channel: 'c1', reason: 'channel_exists' });
      expect(relay!.relay.registry.size).to.equal(1);
      c.send(envMessage('c1', call(1, 'echo', { text: 'first' })));
      expect(textOf((await c.next()).message)).to.equal('first');
    });

    it('refuses an open past max_channels_per_connection with channel_limit', async function () {
      await start({ fixture: fixtureService() }, { server: { max_channels_per_connection: 2 } });
      const c = await mux();
      await openMuxChannel(c, 'a');
      await openMuxChannel(c, 'b');
      c.send({ type: 'open', channel: 'c', service: 'fixture' });
      expect(await c.next()).to.include({ type: 'error', channel: 'c', reason: 'channel_limit' });
      expect(relay!.relay.registry.size).to.equal(2);
      // closing one frees a slot
      c.send({ type: 'close', channel: 'a' });
      expect(await c.next()).to.include({ type: 'closed', channel: 'a', reason: 'session_closed' });
      await openMuxChannel(c, 'c');
    });

    it('drops a /ws client that keeps sending but never reads the error envelopes, past max_buffered_bytes', async function () {
      this.timeout(60_000);
      const r = await start(
        { fixture: fixtureService() },
        { session: { max_buffered_bytes: 64 * 1024 } },
      );
      const c = await mux();
      await openMuxChannel(c, 'c1');
      const session = r.relay.registry.all()[0]!;
      const socket = (c.ws as any)._socket as Socket;
      socket.pause(); // the client stops reading
      const rssBefore = process.memoryUsage().rss;
      // valid envelopes for a channel that is not open: each answered with an error envelope
      const frame = JSON.stringify(envMessage('nope', { jsonrpc: '2.0', method: 'x' }));
      let sent = 0;
      await waitFor(
        () => {
          if (r.relay.connectionCount === 0) return true;
          for (let i = 0; i < 2000 && c.ws.readyState === c.ws.OPEN; i++, sent++) c.ws.send(frame);
          return false;
        },
        45_000,
        'the relay to drop the connection',
      );
      const growthMb = (process.memoryUsage().rss - rssBefore) / (1024 * 1024);
      expect(growthMb, `rss growth ${growthMb.toFixed(1)} MB after ${sent} frames`).to.be.lessThan(
        200,
      );
      // its sessions stop (not left detached)
      await waitFor(() => session.state === 'closed', 10_000, 'the session to stop');
    });

    it('closes a /ws connection with 1008 after 100 bad envelopes in a row, each answered', async function () {
      await start({ fixture: fixtureService() });
      const c = await mux();
      for (let i = 0; i < 99; i++) c.send('garbage');
      c.send({ type: 'open', channel: 'ok', service: 'nope' }); // a valid envelope resets the count
      for (let i = 0; i < 99; i++) c.send('garbage');
      const reasons = [];
      for (let i = 0; i < 199; i++) reasons.push((await c.next()).reason);
      expect(reasons.filter((r) => r === 'bad_envelope')).to.have.length(198);
      expect(reasons[99]).to.equal('unknown_service');
      expect(c.ws.readyState).to.equal(c.ws.OPEN);
      c.send('garbage'); // the 100th in a row
      expect((await c.next()).reason).to.equal('bad_envelope');
      expect((await c.expectClose()).code).to.equal(1008);
    });

    it('delivers messages sent before `opened` in order once the channel is open', async function () {
      await start({ fixture: fixtureService() });
      const c = await mux();
      c.send({ type: 'open', channel: 'c1', service: 'fixture' });
      c.send(
        envMessage('c1', { jsonrpc: '2.0', id: 'init', method: 'initialize', params: INIT_PARAMS }),
      );
      c.send(envMessage('c1', { jsonrpc: '2.0', method: 'notifications/initialized' }));
      for (let i = 1; i <= 5; i++) c.send(envMessage('c1', call(i, 'echo', { text: `m${i}` })));
      const opened = await c.next();
      expect(opened).to.include({ type: 'opened', channel: 'c1', resumed: false });
      const init = await c.next();
      expect(init).to.include({ type: 'message', channel: 'c1' });
      expect(init.message.id).to.equal('init');
      expect(init.message.result.serverInfo.name).to.equal('fixture');
      const replies = [];
      for (let i = 1; i <= 5; i++) replies.push((await c.next()).message);
      expect(replies.map((m) => m.id)).to.deep.equal([1, 2, 3, 4, 5]);
      expect(replies.map(textOf)).to.deep.equal(['m1', 'm2', 'm3', 'm4', 'm5']);
    });

    it('bounds in bytes what it holds before `opened`: past it a request gets queue_full at once', async function () {
      // small answers, so only the held requests count against max_buffered_bytes
      await start({ fixture: fixtureService() }, { session: { max_buffered_bytes: 4096 } });
      const c = await mux();
      const ping = (id: number) => ({
        jsonrpc: '2.0',
        id,
        method: 'ping',
        params: { pad: 'z'.repeat(1500) },
      });
      c.send({ type: 'open', channel: 'c1', service: 'fixture' });
      c.send(
        envMessage('c1', { jsonrpc: '2.0', id: 'init', method: 'initialize', params: INIT_PARAMS }),
      );
      for (let i = 1; i <= 3; i++) c.send(envMessage('c1', ping(i)));
      const byId = new Map<unknown, any>();
      while (byId.size < 4) {
        const env = await c.next();
        if (env.type === 'message') byId.set(env.message.id, env.message);
      }
      expect(byId.get(1)).to.deep.include({ result: {} });
      expect(byId.get(2)).to.deep.include({ result: {} });
      expect(byId.get(3).error?.data?.reason).to.equal('queue_full'); // ~4.7 KB held > 4096
    });

    it('stops the session on a `close` envelope: closed with session_closed, the process exits', async function () {
      await start({ fixture: fixtureService() });
      const c = await mux();
      const session = await openMuxChannel(c, 'c1');
      c.send(envMessage('c1', call(1, 'cwd')));
      const pid = serverPidByCwd(textOf((await c.next()).message));
      expect(isAlive(pid)).to.equal(true);
      c.send({ type: 'close', channel: 'c1' });
      const closed = await c.next();
      expect(closed).to.include({ type: 'closed', channel: 'c1', reason: 'session_closed' });
      await waitFor(() => !isAlive(pid), 5000, 'the server process to exit');
      await waitFor(
        () => relay!.relay.registry.get(session) === undefined,
        5000,
        'the session to leave the registry',
      );
      // the channel is gone: a message for it is unknown_channel, the socket stays open
      c.send(envMessage('c1', call(2, 'echo', { text: 'late' })));
      expect(await c.next()).to.include({
        type: 'error',
        channel: 'c1',
        reason: 'unknown_channel',
      });
    });
  });

  describe('plain HTTP connections', function () {
    it('caps half-open requests per address, still answers other addresses, and closes them after headers_timeout', async function () {
      const r = await start(
        { fixture: fixtureService() },
        { server: { max_http_connections_per_address: 5, headers_timeout: 2, body_timeout: 3 } },
      );
      const halfOpen: RawConnection[] = [];
      try {
        for (let i = 0; i < 5; i++) {
          const conn = await rawConnect(r.url);
          conn.socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Part: ${i}`);
          halfOpen.push(conn);
        }
        // the sixth from the same address is closed at once, with a 503 connection_limit
        const sixth = await rawConnect(r.url);
        const answer = await sixth.closed(2000);
        expect(answer).to.match(/^HTTP\/1\.1 503 /);
        expect(answer).to.include('"reason":"connection_limit"');
        expect(answer).to.include('max_http_connections_per_address');
        // another address is served meanwhile
        const other = await rawConnect(r.url, '127.0.0.2');
        other.socket.write('GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n');
        expect(await other.closed()).to.match(/^HTTP\/1\.1 200 /);
        // the half-open ones are answered 408 and closed once headers_timeout has passed
        for (const conn of halfOpen) expect(await conn.closed(10_000)).to.match(/^HTTP\/1\.1 408 /);
      } finally {
        for (const conn of halfOpen) conn.socket.destroy();
      }
      // their places are free again
      const again = await http(`${r.url}/healthz`);
      expect(again.status).to.equal(200);
    });

    it('closes a request whose body does not arrive within body_timeout with 408; no session is started', async function () {
      const r = await start(
        { fixture: fixtureService() },
        { server: { headers_timeout: 1, body_timeout: 2 } },
      );
      const conn = await rawConnect(r.url);
      conn.socket.write(
        'POST /services/fixture/call HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
          'Content-Type: application/json\r\nContent-Length: 100\r\n\r\n{"tool":',
      );
      expect(await conn.closed(10_000)).to.match(/^HTTP\/1\.1 408 /);
      expect(r.relay.registry.size).to.equal(0);
      expect((await http(`${r.url}/healthz`)).status).to.equal(200);
    });

    it('does not count a connection that became a WebSocket against the HTTP cap', async function () {
      await start(
        { fixture: fixtureService() },
        { server: { max_http_connections_per_address: 2 } },
      );
      await mux();
      await mux();
      await mux();
      expect((await http(`${relay!.url}/healthz`)).status).to.equal(200);
    });
  });

  describe('connection limit', function () {
    it('refuses a second WebSocket past max_connections with HTTP 503 connection_limit', async function () {
      await start({ fixture: fixtureService() }, { server: { max_connections: 1 } });
      const first = await mux();
      const second = await refused(relay!.ws('/ws'), 'mcpmux.v1');
      expect(second.status).to.equal(503);
      expect(second.body.reason).to.equal('connection_limit');
      const direct = await refused(relay!.ws('/mcp/fixture'), 'mcp');
      expect(direct.status).to.equal(503);
      expect(direct.body.reason).to.equal('connection_limit');
      expect(relay!.relay.registry.size).to.equal(0); // nothing spawned for a refused upgrade
      // the first connection is unaffected
      await openMuxChannel(first, 'c1');
    });

    it('counts direct upgrades still spawning their session against max_connections', async function () {
      await start({ fixture: fixtureService() }, { server: { max_connections: 1 } });
      // both upgrades arrive before either session has finished spawning
      const results = await Promise.allSettled([direct(), direct()]);
      const accepted = results.filter((r) => r.status === 'fulfilled');
      const refused = results.filter((r) => r.status === 'rejected');
      expect(accepted, 'upgrades accepted').to.have.length(1);
      expect(String((refused[0] as PromiseRejectedResult).reason)).to.include('HTTP 503');
      expect(relay!.relay.connectionCount).to.equal(1);
    });
  });

  describe('backpressure', function () {
    it('stalls a flooding server while the client does not read (relay memory bounded), then delivers every notification and the reply', async function () {
      this.timeout(120_000);
      const COUNT = 20_000;
      const SIZE = 4096;
      const r = await start(
        { fixture: fixtureService() },
        { session: { max_buffered_bytes: 1024 * 1024 } },
      );
      const c = await direct();
      await handshakeDirect(c);
      const session = r.relay.registry.get(c.headers['mcpmux-session']!)!;
      expect(session).to.not.equal(undefined);
      // count what the relay reads from the server's stdout
      let read = 0;
      session.client.on('notification', () => read++);

      const socket = (c.ws as any)._socket as Socket;
      socket.pause(); // the client stops reading
      const rssBefore = process.memoryUsage().rss;
      let rssPeak = rssBefore;
      c.send(call(1, 'flood-stdout', { count: COUNT, size: SIZE }));

      // the flood starts, then stalls: nothing more is read from stdout for a while
      const stalledAt = await waitForStall(
        () => read,
        'the flood to stall',
        () => (rssPeak = Math.max(rssPeak, process.memoryUsage().rss)),
      );
      expect(stalledAt, 'notifications read before the stall').to.be.lessThan(COUNT / 4);
      expect(session.state).to.equal('attached'); // not shed: this design pauses stdout
      const growthMb = (rssPeak - rssBefore) / (1024 * 1024);
      expect(growthMb, `rss growth ${growthMb.toFixed(1)} MB`).to.be.lessThan(40);

      // resume reading: every notification arrives, in order, then the reply
      socket.resume();
      let notifications = 0;
      for (;;) {
        const text = await c.nextText(30_000);
        const m = JSON.parse(text);
        if (m.id === 1) {
          expect(textOf(m)).to.equal(`flooded ${COUNT}`);
          break;
        }
        expect(m.method).to.equal('notifications/message');
        expect(m.params.data).to.have.length(SIZE);
        notifications++;
      }
      expect(notifications).to.equal(COUNT);
      expect(read).to.equal(COUNT);
    });
  });

  describe('backpressure across a resume', function () {
    // The outflow of the dropped connection paused the session's stdout; whoever owns the
    // session next (the resume buffer, or the resumed connection) must let it flow again.
    it('a session paused by a slow client that then drops delivers its output after a resume', async function () {
      this.timeout(60_000);
      const COUNT = 2000;
      const r = await start(
        { fixture: fixtureService() },
        { session: { max_buffered_bytes: 1024 * 1024, resume_buffer_messages: COUNT + 10 } },
      );
      const c = await direct();
      await handshakeDirect(c);
      const sessionId = c.headers['mcpmux-session']!;
      const session = r.relay.registry.get(sessionId)!;
      let read = 0;
      session.client.on('notification', () => read++);
      const socket = (c.ws as any)._socket as Socket;
      socket.pause();
      c.send(call(1, 'flood-stdout', { count: COUNT, size: 4096 }));
      expect(await waitForStall(() => read, 'the flood to stall')).to.be.lessThan(COUNT);
      // the slow client's connection drops; the session waits for a resume
      c.ws.terminate();
      await waitFor(() => session.state === 'detached', 5000, 'the session to detach');
      const token = encodeURIComponent(c.headers['mcpmux-resume-token']!);
      // replay=now: the client continuing reads on without sending anything first
      const again = await WsCursor.connect(r.ws(`/mcp/fixture?resume=${token}&replay=now`), 'mcp');
      cursors.push(again);
      // what the server writes from now on reaches the resumed client, ending with the reply
      const { match } = await again.until((m) => m.id === 1, 15_000);
      expect(match.error, JSON.stringify(match.error)).to.equal(undefined);
      expect(textOf(match)).to.equal(`flooded ${COUNT}`);
      expect(read).to.equal(COUNT);
    });
  });

  describe('resume buffer in bytes', function () {
    it('ends a detached session whose server keeps writing 1 MiB lines with slow_consumer; relay memory stays bounded', async function () {
      this.timeout(60_000);
      const MiB = 1024 * 1024;
      const logs = captureLogs();
      const r = await start(
        { fixture: fixtureService() },
        { session: { max_resume_buffer_bytes: 8 * MiB }, logger: logs.logger },
      );
      const c = await direct();
      await handshakeDirect(c);
      const sessionId = c.headers['mcpmux-session']!;
      const session = r.relay.registry.get(sessionId)!;
      c.send(call(1, 'flood-stdout', { count: 10_000, size: MiB }));
      // the flood reaches the client, then its connection drops: the session waits for a resume
      const { match: first } = await c.until((m) => m.method === 'notifications/message', 15_000);
      expect(first.params.data).to.have.length(MiB);
      const rssBefore = process.memoryUsage().rss;
      let rssPeak = rssBefore;
      c.ws.terminate();
      await waitFor(
        () => {
          rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
          return r.relay.registry.get(sessionId) === undefined;
        },
        20_000,
        'the detached session to end',
      );
      expect(session.state).to.equal('closed');
      const closed = logs
        .lines()
        .find((l) => l.session === sessionId && l.msg === 'session closed');
      expect(closed, 'a session closed log line').to.not.equal(undefined);
      expect(closed.reason).to.equal('slow_consumer');
      const full = logs.lines().find((l) => l.msg?.startsWith('resume buffer full'));
      expect(full).to.include({ limit: 'max_resume_buffer_bytes' });
      expect(full.buffered_bytes).to.be.within(8 * MiB, 10 * MiB);
      const growthMb = (rssPeak - rssBefore) / MiB;
      expect(growthMb, `rss growth ${growthMb.toFixed(1)} MB`).to.be.lessThan(150);
      // and the session cannot be resumed
      const token = encodeURIComponent(c.headers['mcpmux-resume-token']!);
      const again = await WsCursor.connect(r.ws(`/mcp/fixture?resume=${token}`), 'mcp');
      cursors.push(again);
      expect((await again.expectClose()).code).to.equal(4009); // unknown_session
    });
  });

  describe('health endpoints', function () {
    it('answers /healthz, /readyz and /health with services and session counts', async function () {
      await start({ fixture: fixtureService(), off: fixtureService([], { enabled: false }) });
      const healthz = await fetch(`${relay!.url}/healthz`);
      expect(healthz.status).to.equal(200);
      const readyz = await fetch(`${relay!.url}/readyz`);
      expect(readyz.status).to.equal(200);

      const get = async () => {
        const res = await fetch(`${relay!.url}/health`);
        expect(res.status).to.equal(200);
        expect(res.headers.get('content-type')).to.match(/^application\/json/);
        return (await res.json()) as any;
      };
      const before = await get();
      expect(before.status).to.equal('healthy');
      expect(before.version)
        .to.be.a('string')
        .that.matches(/^\d+\.\d+\.\d+/);
      expect(Number.isNaN(Date.parse(before.timestamp))).to.equal(false);
      // a disabled service is not listed (as in SignalWire's gateway); the isolation each service
      // got on this host (issue 11)
      const isolation = hostInfo().bwrap === undefined ? 'rlimits' : 'namespaces';
      const shape = { enabled: true, spares: 0, isolation };
      expect(before.services).to.deep.equal({ fixture: { ...shape, sessions: 0 } });
      expect(before.sessions).to.equal(0);

      const c = await direct();
      await handshakeDirect(c);
      const during = await get();
      expect(during.services.fixture).to.deep.equal({ ...shape, sessions: 1 });
      expect(during.sessions).to.equal(1);
    });
  });
});
