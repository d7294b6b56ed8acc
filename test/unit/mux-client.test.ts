// Unit tests for MuxClient (the mcpmux/client library): a tiny in-test WebSocketServer on
// 127.0.0.1:0 plays the relay's part with scripted mcpmux.v1 envelopes.
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { expect } from 'chai';
import { WebSocket, WebSocketServer } from 'ws';
import {
  MuxChannel,
  MuxClient,
  MuxError,
  RpcError,
  type ClosedInfo,
  type JsonRpcNotification,
  type JsonRpcRequest,
  type MuxClientOptions,
} from '../../src/client/mux-client.js';
import { waitFor } from '../helpers/processes.js';

const UUID = '0b9e4c1a-7d2f-4e8a-9c3b-5f6a7b8c9d0e';
const UUID2 = '6f1d2c3b-4a59-4687-9e8d-7c6b5a493827';

/** The relay's end of one connection: a cursor over the client's frames. */
class RelaySide {
  readonly ws: WebSocket;
  readonly #frames: any[] = [];
  #wake: (() => void) | undefined;
  #closed = false;

  constructor(ws: WebSocket) {
    this.ws = ws;
    ws.on('message', (data: Buffer) => {
      this.#frames.push(JSON.parse(data.toString('utf8')));
      this.#wake?.();
    });
    ws.on('close', () => {
      this.#closed = true;
      this.#wake?.();
    });
    ws.on('error', () => undefined);
  }

  send(envelope: unknown): void {
    this.ws.send(JSON.stringify(envelope));
  }

  message(channel: string, message: unknown): void {
    this.send({ type: 'message', channel, message });
  }

  /** The next envelope the client sent. */
  async next(timeoutMs = 5000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    while (this.#frames.length === 0) {
      if (this.#closed) throw new Error('socket closed while waiting for a frame');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no frame within ${timeoutMs} ms`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#wake = undefined;
    }
    return this.#frames.shift();
  }

  /** Reads an `open` envelope and answers it with `opened`. */
  async acceptOpen(session = UUID, resumed = false): Promise<any> {
    const open = await this.next();
    expect(open.type).to.equal('open');
    this.send({ type: 'opened', channel: open.channel, session, resumed });
    return open;
  }
}

/** A fake relay: a WebSocketServer that accepts mcpmux.v1 and hands out RelaySides. */
class FakeRelay {
  readonly wss: WebSocketServer;
  readonly #waiting: ((side: RelaySide) => void)[] = [];
  readonly #sides: RelaySide[] = [];

  private constructor(wss: WebSocketServer) {
    this.wss = wss;
    wss.on('connection', (ws) => {
      const side = new RelaySide(ws);
      const waiter = this.#waiting.shift();
      if (waiter === undefined) this.#sides.push(side);
      else waiter(side);
    });
  }

  static async start(acceptProtocol = true): Promise<FakeRelay> {
    const wss = new WebSocketServer({
      host: '127.0.0.1',
      port: 0,
      handleProtocols: (protocols) =>
        acceptProtocol && protocols.has('mcpmux.v1') ? 'mcpmux.v1' : false,
    });
    await once(wss, 'listening');
    return new FakeRelay(wss);
  }

  get url(): string {
    return `ws://127.0.0.1:${(this.wss.address() as AddressInfo).port}/ws`;
  }

  /** The relay side of the next (or an already accepted) connection. */
  connection(): Promise<RelaySide> {
    const side = this.#sides.shift();
    if (side !== undefined) return Promise.resolve(side);
    return new Promise((resolve) => this.#waiting.push(resolve));
  }

  async close(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    await new Promise<void>((resolve) => this.wss.close(() => resolve()));
  }
}

/** Resolves with the next value of a MuxChannel / MuxClient event. */
function next<T>(subscribe: (fn: (value: T) => void) => () => void): Promise<T> {
  return new Promise((resolve) => {
    const off = subscribe((value) => {
      off();
      resolve(value);
    });
  });
}

async function rejection(promise: Promise<unknown>): Promise<any> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error('expected a rejection');
}

describe('MuxClient', () => {
  let relay: FakeRelay;
  const clients: MuxClient[] = [];

  async function connect(options: MuxClientOptions = {}): Promise<[MuxClient, RelaySide]> {
    const [mux, side] = await Promise.all([
      MuxClient.connect(relay.url, { WebSocket, ...options }),
      relay.connection(),
    ]);
    clients.push(mux);
    return [mux, side];
  }

  async function openOne(mux: MuxClient, side: RelaySide, service = 'todo'): Promise<MuxChannel> {
    const [channel] = await Promise.all([mux.open(service), side.acceptOpen()]);
    return channel;
  }

  beforeEach(async () => {
    relay = await FakeRelay.start();
  });

  afterEach(async () => {
    const closing = clients
      .splice(0)
      .filter((mux) => mux.state !== 'closed')
      .map((mux) => next<unknown>((fn) => mux.on('close', fn)));
    await relay.close();
    await Promise.all(closing);
  });

  it('connects with the mcpmux.v1 subprotocol', async () => {
    const [mux] = await connect();
    expect(mux.protocol).to.equal('mcpmux.v1');
    expect(mux.state).to.equal('open');
    expect(mux.channels.size).to.equal(0);
  });

  it('fails to connect when the server does not accept mcpmux.v1', async () => {
    await relay.close();
    relay = await FakeRelay.start(false);
    const err = await rejection(
      MuxClient.connect(relay.url + '?access_token=secret', { WebSocket }),
    );
    expect(err).to.be.instanceOf(MuxError);
    expect(err.reason).to.equal('connect_failed');
    expect(err.message).to.not.include('secret');
  });

  it('opens a channel: open envelope out, opened envelope in', async () => {
    const [mux, side] = await connect();
    const opening = mux.open('todo');
    const open = await side.next();
    expect(open).to.deep.equal({ type: 'open', channel: 'c1', service: 'todo' });
    side.send({ type: 'opened', channel: 'c1', session: UUID, resumed: false });
    const channel = await opening;
    expect(channel.id).to.equal('c1');
    expect(channel.service).to.equal('todo');
    expect(channel.session).to.equal(UUID);
    expect(channel.resumed).to.equal(false);
    expect(channel.state).to.equal('open');
    expect(mux.channels.get('c1')).to.equal(channel);
  });

  it('names channels c1, c2, … and resumes a session when asked', async () => {
    const [mux, side] = await connect();
    const first = mux.openChannel('todo');
    const second = mux.openChannel('todo', { resume: 'node-a.TOKEN2' });
    const named = mux.openChannel('memory', { channel: 'my "memory" 😀' });
    expect([first.id, second.id, named.id]).to.deep.equal(['c1', 'c2', 'my "memory" 😀']);
    expect(await side.next()).to.deep.equal({ type: 'open', channel: 'c1', service: 'todo' });
    expect(await side.next()).to.deep.equal({
      type: 'open',
      channel: 'c2',
      service: 'todo',
      resume: 'node-a.TOKEN2',
      replay: 'now', // the client continuing: the backlog at once (a transport decides its fate)
    });
    expect((await side.next()).channel).to.equal('my "memory" 😀');
    const opened = { session: UUID2, resumed: true, resume_token: 'node-a.TOKEN2' };
    side.send({ type: 'opened', channel: 'c2', ...opened });
    const resumed = await second.ready;
    expect(resumed.session).to.equal(UUID2);
    expect(resumed.resumeToken).to.equal('node-a.TOKEN2');
    expect(resumed.resumed).to.equal(true);
    expect(() => mux.openChannel('todo', { channel: 'c1' })).to.throw(/already in use/);
    expect(() => mux.openChannel('todo', { channel: '' })).to.throw(RangeError);
  });

  it('sends messages right after open, before opened, in order', async () => {
    const [mux, side] = await connect();
    const channel = mux.openChannel('todo');
    channel.notify('notifications/initialized');
    const pong = channel.request('ping');
    expect((await side.next()).type).to.equal('open');
    expect(await side.next()).to.deep.equal({
      type: 'message',
      channel: 'c1',
      message: { jsonrpc: '2.0', method: 'notifications/initialized' },
    });
    const ping = await side.next();
    expect(ping.message).to.deep.equal({ jsonrpc: '2.0', id: 1, method: 'ping' });
    side.send({ type: 'opened', channel: 'c1', session: UUID, resumed: false });
    side.message('c1', { jsonrpc: '2.0', id: 1, result: {} });
    expect(await pong).to.deep.equal({});
    expect(channel.state).to.equal('open');
  });

  it('matches responses to requests by id, in any order', async () => {
    const [mux, side] = await connect();
    const channel = await openOne(mux, side);
    const a = channel.request('tools/call', { name: 'a' });
    const b = channel.request('tools/call', { name: 'b' });
    const reqA = (await side.next()).message;
    const reqB = (await side.next()).message;
    expect(reqA).to.deep.equal({
      jsonrpc: '2.0',
      id: 1,
      method: 'tools/call',
      params: { name: 'a' },
    });
    expect(reqB.id).to.equal(2);
    side.message('c1', { jsonrpc: '2.0', id: reqB.id, result: { for: 'b' } });
    side.message('c1', { jsonrpc: '2.0', id: reqA.id, result: { for: 'a' } });
    expect(await a).to.deep.equal({ for: 'a' });
    expect(await b).to.deep.equal({ for: 'b' });
  });

  it('rejects a request with an RpcError carrying code, data and reason', async () => {
    const [mux, side] = await connect();
    const channel = await openOne(mux, side);
    const call = channel.request('tools/call', { name: 'x' });
    const req = (await side.next()).message;
    side.message('c1', {
      jsonrpc: '2.0',
      id: req.id,
      error: {
        code: -32000,
        message: 'the todo queue is full',
        data: { reason: 'queue_full', retry_after_ms: 40 },
      },
    });
    const err = await rejection(call);
    expect(err).to.be.instanceOf(RpcError);
    expect(err.code).to.equal(-32000);
    expect(err.reason).to.equal('queue_full');
    expect(err.data).to.deep.equal({ reason: 'queue_full', retry_after_ms: 40 });
    expect(err.message).to.equal('the todo queue is full');
  });

  it('delivers server notifications and requests, and sends the responses back', async () => {
    const [mux, side] = await connect();
    const channel = await openOne(mux, side);
    const messages: unknown[] = [];
    channel.on('message', (m) => messages.push(m));
    const notification = next<JsonRpcNotification>((fn) => channel.on('notification', fn));
    side.message('c1', { jsonrpc: '2.0', method: 'notifications/tools/list_changed' });
    expect((await notification).method).to.equal('notifications/tools/list_changed');

    const request = next<JsonRpcRequest>((fn) => channel.on('request', fn));
    side.message('c1', { jsonrpc: '2.0', id: 's1', method: 'roots/list' });
    const req = await request;
    expect(req).to.deep.equal({ jsonrpc: '2.0', id: 's1', method: 'roots/list' });
    channel.respond(req.id, { roots: [] });
    expect((await side.next()).message).to.deep.equal({
      jsonrpc: '2.0',
      id: 's1',
      result: { roots: [] },
    });

    side.message('c1', { jsonrpc: '2.0', id: 0, method: 'sampling/createMessage', params: {} });
    const second = await next<JsonRpcRequest>((fn) => channel.on('request', fn));
    channel.respondError(second.id, -32601, 'no sampling here');
    expect((await side.next()).message).to.deep.equal({
      jsonrpc: '2.0',
      id: 0,
      error: { code: -32601, message: 'no sampling here' },
    });
    expect(messages).to.have.length(3);
  });

  it('answers server requests itself when nobody listens (ping: {}, others: -32601)', async () => {
    const [mux, side] = await connect();
    await openOne(mux, side);
    side.message('c1', { jsonrpc: '2.0', id: 7, method: 'ping' });
    expect((await side.next()).message).to.deep.equal({ jsonrpc: '2.0', id: 7, result: {} });
    side.message('c1', { jsonrpc: '2.0', id: 8, method: 'elicitation/create', params: {} });
    const answer = (await side.next()).message;
    expect(answer.id).to.equal(8);
    expect(answer.error.code).to.equal(-32601);
  });

  it('closes a channel on a closed envelope and rejects its pending requests', async () => {
    const [mux, side] = await connect();
    const channel = await openOne(mux, side);
    const call = channel.request('tools/call', { name: 'slow' });
    await side.next();
    const closed = next<ClosedInfo>((fn) => channel.on('closed', fn));
    side.send({ type: 'closed', channel: 'c1', reason: 'idle_timeout', message: 'no traffic' });
    expect(await closed).to.deep.equal({ reason: 'idle_timeout', message: 'no traffic' });
    const err = await rejection(call);
    expect(err).to.be.instanceOf(MuxError);
    expect(err.reason).to.equal('idle_timeout');
    expect(channel.state).to.equal('closed');
    expect(mux.channels.has('c1')).to.equal(false);
    expect(() => channel.notify('x')).to.throw(MuxError);
    expect((await rejection(channel.request('ping'))).reason).to.equal('idle_timeout');
  });

  it('rejects open with the reason of an error envelope for the channel', async () => {
    const [mux, side] = await connect();
    const opening = mux.open('todo');
    const open = await side.next();
    side.send({
      type: 'error',
      channel: open.channel,
      reason: 'session_limit',
      message: 'session limit reached',
      data: { limit: 'max_total_sessions' },
    });
    const err = await rejection(opening);
    expect(err).to.be.instanceOf(MuxError);
    expect(err.reason).to.equal('session_limit');
    expect(err.channel).to.equal('c1');
    expect(err.data).to.deep.equal({ limit: 'max_total_sessions' });
    expect(mux.channels.size).to.equal(0);
  });

  it('surfaces connection-level error envelopes on mux.on("error")', async () => {
    const [mux, side] = await connect();
    const error = next<MuxError>((fn) => mux.on('error', fn));
    side.send({ type: 'error', reason: 'bad_envelope', message: 'not JSON' });
    const err = await error;
    expect(err.reason).to.equal('bad_envelope');
    expect(err.channel).to.equal(undefined);
  });

  it('closes every channel with connection_closed when the socket closes', async () => {
    const [mux, side] = await connect();
    const one = await openOne(mux, side);
    const two = mux.openChannel('memory');
    await side.next();
    const call = one.request('tools/call', { name: 'slow' });
    await side.next();
    const closedOne = next<ClosedInfo>((fn) => one.on('closed', fn));
    const muxClosed = next<{ code: number; reason: string }>((fn) => mux.on('close', fn));
    side.ws.close(1001, 'going away');
    expect((await closedOne).reason).to.equal('connection_closed');
    expect((await rejection(call)).reason).to.equal('connection_closed');
    expect((await rejection(two.ready)).reason).to.equal('connection_closed');
    expect(await muxClosed).to.deep.equal({ code: 1001, reason: 'going away' });
    expect(mux.state).to.equal('closed');
    expect(mux.channels.size).to.equal(0);
    expect((await rejection(mux.open('todo'))).reason).to.equal('connection_closed');
  });

  it('sends notifications/cancelled when a request times out', async () => {
    const [mux, side] = await connect();
    const channel = await openOne(mux, side);
    const call = channel.request('tools/call', { name: 'slow' }, { timeoutMs: 50 });
    const req = (await side.next()).message;
    const err = await rejection(call);
    expect(err).to.be.instanceOf(MuxError);
    expect(err.reason).to.equal('timeout');
    const cancel = (await side.next()).message;
    expect(cancel.method).to.equal('notifications/cancelled');
    expect(cancel.params.requestId).to.equal(req.id);
    // A late response is not mistaken for anything else's.
    const late = next<unknown>((fn) => channel.on('message', fn));
    side.message('c1', { jsonrpc: '2.0', id: req.id, result: {} });
    expect(await late).to.deep.equal({ jsonrpc: '2.0', id: req.id, result: {} });
  });

  it('sends notifications/cancelled when a request is aborted', async () => {
    const [mux, side] = await connect();
    const channel = await openOne(mux, side);
    const controller = new AbortController();
    const call = channel.request('tools/call', {}, { signal: controller.signal });
    const req = (await side.next()).message;
    controller.abort();
    expect((await rejection(call)).reason).to.equal('cancelled');
    const cancel = (await side.next()).message;
    expect(cancel).to.deep.include({ method: 'notifications/cancelled' });
    expect(cancel.params.requestId).to.equal(req.id);
  });

  it('closes a channel with a close envelope and resolves on closed', async () => {
    const [mux, side] = await connect();
    const channel = await openOne(mux, side);
    const closing = channel.close();
    expect(channel.state).to.equal('closing');
    expect(await side.next()).to.deep.equal({ type: 'close', channel: 'c1' });
    side.send({ type: 'closed', channel: 'c1', reason: 'session_closed', message: 'closed' });
    await closing;
    expect(channel.state).to.equal('closed');
    expect(channel.closedInfo?.reason).to.equal('session_closed');
  });

  it('mux.close() closes its channels, then the socket', async () => {
    const [mux, side] = await connect();
    await openOne(mux, side);
    const closing = mux.close();
    expect(await side.next()).to.deep.equal({ type: 'close', channel: 'c1' });
    side.send({ type: 'closed', channel: 'c1', reason: 'session_closed', message: 'closed' });
    await closing;
    expect(mux.state).to.equal('closed');
    expect(mux.close()).to.equal(closing);
  });

  it('carries an MCP SDK Client over channel.transport()', async () => {
    const [mux, side] = await connect();
    const channel = mux.openChannel('todo');
    const client = new Client({ name: 'test', version: '1.0.0' });
    const connecting = client.connect(channel.transport());
    await side.acceptOpen();
    const init = (await side.next()).message;
    expect(init.method).to.equal('initialize');
    side.message('c1', {
      jsonrpc: '2.0',
      id: init.id,
      result: {
        protocolVersion: init.params.protocolVersion,
        capabilities: { tools: {} },
        serverInfo: { name: 'fake', version: '0.0.1' },
      },
    });
    expect((await side.next()).message.method).to.equal('notifications/initialized');
    await connecting;
    expect(channel.transport().sessionId).to.equal(UUID);

    const listing = client.listTools();
    const list = (await side.next()).message;
    expect(list.method).to.equal('tools/list');
    side.message('c1', {
      jsonrpc: '2.0',
      id: list.id,
      result: { tools: [{ name: 'add', inputSchema: { type: 'object' } }] },
    });
    expect((await listing).tools.map((t) => t.name)).to.deep.equal(['add']);
    expect(() => channel.request('ping')).to.throw(/transport/);

    const closing = client.close();
    expect(await side.next()).to.deep.equal({ type: 'close', channel: 'c1' });
    side.send({ type: 'closed', channel: 'c1', reason: 'session_closed', message: 'closed' });
    await closing;
    expect(channel.state).to.equal('closed');
  });

  it("gives a new SDK Client on a resumed channel none of the old client's output (backlog, then until its initialize is answered)", async () => {
    const [mux, side] = await connect();
    const channel = mux.openChannel('todo', { resume: 'node-a.TOKEN' });
    await side.acceptOpen(UUID, true);
    // the backlog (replay now): an answer and a progress for the old client's request 1
    side.message('c1', { jsonrpc: '2.0', id: 1, result: { old: true } });
    side.message('c1', {
      jsonrpc: '2.0',
      method: 'notifications/progress',
      params: { progressToken: 1, progress: 1 },
    });
    await channel.ready;
    const client = new Client({ name: 'test', version: '1.0.0' });
    const errors: string[] = [];
    client.onerror = (e) => errors.push(e.message);
    const connecting = client.connect(channel.transport());
    const init = (await side.next()).message;
    expect(init.method).to.equal('initialize');
    // old output still on the wire before the relay saw the initialize, then its answer
    side.message('c1', { jsonrpc: '2.0', id: 2, result: { old: true } });
    side.message('c1', {
      jsonrpc: '2.0',
      id: init.id,
      result: {
        protocolVersion: init.params.protocolVersion,
        capabilities: {},
        serverInfo: { name: 'fake', version: '0.0.1' },
      },
    });
    expect((await side.next()).message.method).to.equal('notifications/initialized');
    await connecting;
    const pinging = client.ping();
    const ping = (await side.next()).message;
    side.message('c1', { jsonrpc: '2.0', id: ping.id, result: {} });
    await pinging;
    expect(errors).to.deep.equal([]); // no unknown id, no unknown progress token
  });

  it('gives a raw transport on a resumed channel the backlog once started, without sending anything', async () => {
    const [mux, side] = await connect();
    const channel = mux.openChannel('todo', { resume: 'node-a.TOKEN' });
    await side.acceptOpen(UUID, true);
    side.message('c1', { jsonrpc: '2.0', id: 'late', result: { kept: true } });
    await channel.ready;
    const transport = channel.transport();
    const got: unknown[] = [];
    transport.onmessage = (m) => got.push(m);
    await transport.start();
    await waitFor(() => got.length === 1, 5000);
    expect(got[0]).to.deep.include({ id: 'late' });
  });
});
