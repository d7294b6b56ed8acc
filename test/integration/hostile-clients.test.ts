// Issue 16, what a client can send: one regression test per case that used to end the relay.
// Nesting past MAX_NESTING_DEPTH is -32600 on both WebSocket endpoints and 400 on REST, before
// anything serialises it; the relay and every other session carry on. (The root hook fails any
// test during which the process emits uncaughtException or unhandledRejection.)
import { expect } from 'chai';
import { MAX_NESTING_DEPTH } from '../../src/jsonrpc/codec.js';
import { ClientPool } from '../helpers/clients.js';
import { fixtureService } from '../helpers/config.js';
import { openChannel, type ChannelDriver } from '../helpers/drivers.js';
import { http } from '../helpers/http.js';
import { resultText, toolCall } from '../helpers/jsonrpc.js';
import { INIT_PARAMS, startRelay, type TestRelay } from '../helpers/relay.js';
import type { McpmuxError } from '../../src/errors.js';

/** `depth` nested arrays: 2 bytes a level (5,000 levels: a 10 KB frame). */
const nested = (depth: number) => '['.repeat(depth) + ']'.repeat(depth);

async function handshake(channel: ChannelDriver): Promise<void> {
  channel.send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: INIT_PARAMS });
  expect((await channel.next()).id).to.equal('init');
  channel.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
}

async function echo(channel: ChannelDriver, id: string, text: string): Promise<void> {
  channel.send(toolCall(id, 'echo', { text }));
  const { match } = await channel.until((m) => m.id === id);
  expect(resultText(match)).to.equal(text);
}

describe('hostile clients: nesting past the limit (issue 16)', function () {
  let relay: TestRelay | undefined;
  const channels: ChannelDriver[] = [];

  afterEach(async function () {
    for (const c of channels.splice(0)) c.drop();
    await relay?.close();
    relay = undefined;
  });

  const open = async (mode: 'direct' | 'mux') => {
    const channel = await openChannel(mode, relay!, 'fixture');
    channels.push(channel);
    await handshake(channel);
    return channel;
  };

  it('answers a 10 KB /ws frame nesting 5,000 levels with -32600; that session and the others carry on', async function () {
    relay = await startRelay({ fixture: fixtureService() });
    const attacker = await open('mux');
    const bystander = await open('direct');
    const frame = `{"type":"message","channel":"c1","message":{"jsonrpc":"2.0","id":"deep","method":"tools/call","params":{"name":"echo","arguments":{"text":${nested(5000)}}}}}`;
    expect(frame.length).to.be.within(10_000, 11_000);
    attacker.cursor.send(frame);
    const answer = await attacker.next();
    expect(answer.id).to.equal('deep');
    expect(answer.error.code).to.equal(-32600);
    expect(answer.error.data.reason).to.equal('invalid_request');
    expect(answer.error.message).to.match(/nesting deeper than 64 levels/);
    await echo(attacker, 'after', 'still here');
    await echo(bystander, 'other', 'unaffected');
    expect((await http(`${relay.url}/healthz`)).status).to.equal(200);
  });

  it('answers a multi-line /mcp frame nesting 5,000 levels with -32600 and keeps the session', async function () {
    relay = await startRelay({ fixture: fixtureService() });
    const channel = await open('direct');
    const frame = `{\n  "jsonrpc": "2.0",\n  "id": 7,\n  "method": "tools/call",\n  "params": {"name": "echo", "arguments": {"text": ${nested(5000)}}}\n}`;
    channel.send(frame);
    const answer = await channel.next();
    expect(answer).to.deep.include({ id: 7 });
    expect(answer.error).to.include({ code: -32600 });
    await echo(channel, 'after', 'still here');
  });

  it('passes a message exactly MAX_NESTING_DEPTH deep on both endpoints', async function () {
    relay = await startRelay({ fixture: fixtureService() });
    for (const mode of ['direct', 'mux'] as const) {
      const channel = await open(mode);
      // message(1) > params(2) > arguments(3) > text(4…): the whole message is 64 levels deep
      const text = JSON.parse(nested(MAX_NESTING_DEPTH - 3)) as unknown;
      channel.send(toolCall(`ok-${mode}`, 'echo', { text }));
      const { match } = await channel.until((m) => m.id === `ok-${mode}`);
      expect(match.error, JSON.stringify(match.error)).to.equal(undefined);
    }
  });

  it('answers REST arguments nesting 5,000 levels with 400, spawns nothing, and nothing rejects later', async function () {
    relay = await startRelay({ fixture: fixtureService([], { request_timeout: 1 }) });
    const url = `${relay.url}/services/fixture/call`;
    const body = `{"tool":"echo","session_id":"deep-1","arguments":{"text":${nested(5000)}}}`;
    const answer = await http(url, { method: 'POST', body });
    expect(answer.status, answer.text).to.equal(400);
    expect(answer.body.reason).to.equal('invalid_request');
    expect(relay.relay.registry.size).to.equal(0);
    // A call that outlives request_timeout (1 s): had the deep call left a request pending, its
    // rejection would have surfaced by now, and the root hook fails the test.
    const late = await http(url, {
      method: 'POST',
      body: { tool: 'slow', session_id: 'deep-2', arguments: { ms: 5000 } },
    });
    expect(late.status, late.text).to.equal(504);
    expect((await http(`${relay.url}/healthz`)).status).to.equal(200);
  });
});

describe('MCPClient.request with params it cannot serialise', function () {
  const pool = new ClientPool();
  afterEach(() => pool.close());

  it('rejects that call alone with invalid_request and leaves nothing pending', async function () {
    const client = pool.client(fixtureService([], { request_timeout: 1 }));
    await client.start({ initialize: true });
    const text = JSON.parse(nested(10_000)) as unknown;
    let err: McpmuxError | undefined;
    try {
      await client.callTool('echo', { text });
    } catch (e) {
      err = e as McpmuxError;
    }
    expect(err?.reason).to.equal('invalid_request');
    expect(client.pendingCount).to.equal(0);
    expect((await client.callTool('echo', { text: 'ok' })).content).to.deep.equal([
      { type: 'text', text: 'ok' },
    ]);
  });
});
