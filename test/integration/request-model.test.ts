// The request model with the official SDK Client over /mcp/{service} and over /ws (mcpmux/client's
// channel transport), against the fixture server: progress extends the deadline (fix 4), a
// request from a sampling handler at concurrency 1 (fix 5), a new Client resuming a session that
// had a request in flight (fixes 1 and 2), and `await open({ resume })` then `.transport()`
// keeping the resumed session's buffered output (fix 3).

import { expect } from 'chai';
import { WebSocket } from 'ws';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { WebSocketClientTransport } from '@modelcontextprotocol/sdk/client/websocket.js';
import { CreateMessageRequestSchema, type Progress } from '@modelcontextprotocol/sdk/types.js';
import { MuxClient } from '../../src/client/mux-client.js';
import type { Transport } from '@modelcontextprotocol/sdk/shared/transport.js';
import type { ServiceConfig } from '../../src/config/types.js';
import { fixtureService } from '../helpers/config.js';
import { waitFor } from '../helpers/processes.js';
import { startRelay, type TestRelay } from '../helpers/relay.js';

const DEADLINE_MS = 10_000;
const REQ = { timeout: DEADLINE_MS };

function textOf(result: unknown): string {
  const content = (result as { content?: { text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? '').join('\n');
}

/** An SDK Client whose sampling handler pings the server first (a request inside a handler). */
function sdkClient(name: string): { client: Client; errors: string[] } {
  const client = new Client({ name, version: '1.0.0' }, { capabilities: { sampling: {} } });
  const errors: string[] = [];
  client.onerror = (e) => errors.push(e.message);
  client.setRequestHandler(CreateMessageRequestSchema, async () => {
    await client.ping(REQ);
    return {
      model: 'm',
      role: 'assistant',
      content: { type: 'text', text: 'pinged then sampled' },
    };
  });
  return { client, errors };
}

describe('the request model with the SDK Client (fixture server)', function () {
  let relay: TestRelay | undefined;
  const clients: Client[] = [];
  const muxes: MuxClient[] = [];

  async function start(overrides: Omit<Partial<ServiceConfig>, 'command'> = {}) {
    relay = await startRelay({ fixture: fixtureService([], overrides) });
    return relay;
  }

  async function direct(name: string, resumeToken?: string) {
    const url = new URL(relay!.ws('/mcp/fixture'));
    if (resumeToken !== undefined) url.searchParams.set('resume', resumeToken);
    const transport = new WebSocketClientTransport(url);
    const peer = sdkClient(name);
    clients.push(peer.client);
    await peer.client.connect(transport, REQ);
    return { ...peer, transport };
  }

  async function mux() {
    const m = await MuxClient.connect(relay!.ws('/ws'), {
      WebSocket,
      openTimeoutMs: DEADLINE_MS,
      requestTimeoutMs: DEADLINE_MS,
      closeTimeoutMs: 5000,
    });
    muxes.push(m);
    return m;
  }

  const sessionId = () => relay!.relay.registry.all()[0]!.id;

  afterEach(async function () {
    await Promise.allSettled(clients.splice(0).map((c) => c.close()));
    await Promise.allSettled(muxes.splice(0).map((m) => m.close()));
    await relay?.close();
    relay = undefined;
  });

  it('keeps a request alive past request_timeout while it reports progress (fix 4, /mcp)', async function () {
    await start({ request_timeout: 1, max_request_time: 30 });
    const { client } = await direct('progress');
    const seen: Progress[] = [];
    // 6 steps 400 ms apart: 2.4 s in all, more than twice request_timeout, never 1 s silent.
    const result = await client.callTool(
      { name: 'progress', arguments: { steps: 6, ms: 400 } },
      undefined,
      { ...REQ, onprogress: (p) => seen.push(p) },
    );
    expect(textOf(result)).to.equal('done 6');
    expect(seen.length).to.be.at.least(5);
  });

  for (const over of ['/mcp', '/ws'] as const) {
    it(`answers a ping sent from inside a sampling handler at concurrency 1 (fix 5, ${over})`, async function () {
      await start({ concurrency: 1 });
      let client: Client;
      if (over === '/mcp') client = (await direct('sampler')).client;
      else {
        const channel = await (await mux()).open('fixture');
        const peer = sdkClient('sampler-ws');
        clients.push(peer.client);
        await peer.client.connect(channel.transport(), REQ);
        client = peer.client;
      }
      const result = await client.callTool(
        { name: 'sample', arguments: { prompt: 'hi' } },
        undefined,
        REQ,
      );
      expect(textOf(result)).to.equal('pinged then sampled');
    });
  }

  it('lets a new SDK Client resume a session that had a request in flight (fixes 1, 2; /mcp)', async function () {
    await start();
    const first = await direct('first');
    const id = sessionId();
    // The token the opener got in the 101 header (the SDK transport does not show headers).
    const token = relay!.relay.registry.resumeToken(relay!.relay.registry.all()[0]!);
    // id 1 (token 1) is in flight when the connection drops without a close frame.
    const slow = first.client.callTool(
      { name: 'progress', arguments: { steps: 1000, ms: 20 } },
      undefined,
      { timeout: DEADLINE_MS, onprogress: () => undefined },
    );
    slow.catch(() => undefined);
    await waitFor(() => relay!.relay.registry.all()[0]!.inflightCount === 1, DEADLINE_MS);
    (first.transport as unknown as { _socket: WebSocket })._socket.terminate();
    await waitFor(() => relay!.relay.registry.all()[0]!.state === 'detached', DEADLINE_MS);

    const second = await direct('second', token);
    expect(relay!.relay.registry.all().map((s) => s.id)).to.deep.equal([id]);
    const progress: Progress[] = [];
    // The new Client's ids start again: its id 1 and progress token 1 are the old ones.
    const result = await second.client.callTool(
      { name: 'progress', arguments: { steps: 3, ms: 10 } },
      undefined,
      { ...REQ, onprogress: (p) => progress.push(p) },
    );
    expect(textOf(result)).to.equal('done 3');
    expect(progress.map((p) => p.progress)).to.include.members([1, 2]);
    const cancelled = await second.client.callTool({ name: 'cancelled-ids' }, undefined, REQ);
    expect(JSON.parse(textOf(cancelled))).to.deep.equal([1]); // the old id 1, cancelled upstream
    const unknown = second.errors.filter(
      (m) => !/progress notification for an unknown token/.test(m),
    );
    expect(unknown).to.deep.equal([]);
  });

  /**
   * Records what reaches an SDK Client's transport and what it sends, to check that no response
   * arrives for an id it never sent (set before connect: the SDK chains an existing onmessage).
   */
  function watch(transport: Transport) {
    const sent = new Set<unknown>();
    const foreign: unknown[] = [];
    const send = transport.send.bind(transport);
    transport.send = (m, options) => {
      const { id, method } = m as { id?: unknown; method?: string };
      if (method !== undefined && id !== undefined) sent.add(id);
      return send(m, options);
    };
    transport.onmessage = (m) => {
      const { id, method } = m as { id?: unknown; method?: string };
      if (method === undefined && !sent.has(id)) foreign.push(m);
    };
    return foreign;
  }

  for (const over of ['/mcp', '/ws'] as const) {
    it(`gives a new SDK Client resuming a session whose answer was buffered no unknown id (fix 2, ${over})`, async function () {
      await start();
      const session = () => relay!.relay.registry.all()[0]!;
      let first: Client;
      let drop: () => Promise<void>;
      if (over === '/mcp') {
        const peer = await direct('first');
        first = peer.client;
        drop = () => {
          (peer.transport as unknown as { _socket: WebSocket })._socket.terminate();
          return Promise.resolve();
        };
      } else {
        const m1 = await mux();
        const peer = sdkClient('first-ws');
        clients.push(peer.client);
        await peer.client.connect((await m1.open('fixture')).transport(), REQ);
        first = peer.client;
        drop = () => m1.close({ keepSessions: true });
      }
      const token = relay!.relay.registry.resumeToken(session());
      // id 1 is in flight at the drop and answered while nobody is attached: buffered.
      const slow = first.callTool({ name: 'slow', arguments: { ms: 300 } }, undefined, REQ);
      slow.catch(() => undefined);
      await waitFor(() => session().inflightCount === 1, DEADLINE_MS);
      await drop();
      await waitFor(() => session().state === 'detached', DEADLINE_MS);
      await waitFor(() => session().inflightCount === 0, DEADLINE_MS, 'the answer to be buffered');

      const second = sdkClient('second');
      clients.push(second.client);
      let transport: Transport;
      if (over === '/mcp') {
        const url = new URL(relay!.ws('/mcp/fixture'));
        url.searchParams.set('resume', token); // the default replay mode
        transport = new WebSocketClientTransport(url);
      } else {
        // mcpmux/client resumes with replay now: its transport drops the backlog for a new Client
        const channel = await (await mux()).open('fixture', { resume: token });
        transport = channel.transport();
      }
      const foreign = watch(transport);
      await second.client.connect(transport, REQ);
      const result = await second.client.callTool(
        { name: 'echo', arguments: { text: 'new' } },
        undefined,
        REQ,
      );
      expect(textOf(result)).to.equal('new');
      expect(session().state).to.equal('attached');
      expect(foreign).to.deep.equal([]); // no answer for an id the new Client never sent
      expect(second.errors).to.deep.equal([]);
    });
  }

  for (const how of ['open', 'openChannel'] as const) {
    it(`gives \`${how}({ resume })\` then .transport() the buffered messages without sending anything (fix 3, /ws)`, async function () {
      await start();
      const m1 = await mux();
      const channel = await m1.open('fixture');
      await channel.request('initialize', {
        protocolVersion: '2025-06-18',
        capabilities: {},
        clientInfo: { name: 'raw', version: '1' },
      });
      channel.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
      const resume = channel.resumeToken!;
      // A request in flight when the socket drops: its answer is buffered for the resume.
      channel.send({
        jsonrpc: '2.0',
        id: 'late',
        method: 'tools/call',
        params: { name: 'slow', arguments: { ms: 300, text: 'kept for you' } },
      });
      await waitFor(() => relay!.relay.registry.all()[0]!.inflightCount === 1, DEADLINE_MS);
      await m1.close({ keepSessions: true });
      await waitFor(() => relay!.relay.registry.all()[0]!.inflightCount === 0, DEADLINE_MS);

      const m2 = await mux();
      const resumed =
        how === 'open'
          ? await m2.open('fixture', { resume })
          : m2.openChannel('fixture', { resume });
      const transport = resumed.transport();
      const got: unknown[] = [];
      transport.onmessage = (message) => got.push(message);
      await transport.start();
      expect(resumed.resumed).to.equal(true);
      await waitFor(() => got.length > 0, DEADLINE_MS);
      expect(got[0]).to.deep.include({ id: 'late' });
      expect(JSON.stringify(got[0])).to.include('kept for you');
    });
  }
});
