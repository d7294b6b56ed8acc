// Issue 16: a 10 MB message passes with the default limits in both directions on /mcp, /ws and
// REST, as it does over stdio — a real server's ~10 MB read_graph answer included.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { configSchema } from '../../src/config/schema.js';
import { MEMORY_SERVER, fixtureService, serviceConfig, testConfig } from '../helpers/config.js';
import { openChannel, type ChannelDriver } from '../helpers/drivers.js';
import { http } from '../helpers/http.js';
import { resultText, toolCall } from '../helpers/jsonrpc.js';
import { INIT_PARAMS, startRelay, WsCursor, type TestRelay } from '../helpers/relay.js';

const TEN_MB = 10 * 1000 * 1000;

describe('10 MB messages with the default limits (issue 16)', function () {
  this.timeout(60_000);
  let relay: TestRelay | undefined;
  const channels: ChannelDriver[] = [];
  const cursors: WsCursor[] = [];

  afterEach(async function () {
    for (const c of channels.splice(0)) c.drop();
    for (const c of cursors.splice(0)) c.ws.terminate();
    await relay?.close();
    relay = undefined;
  });

  it('runs on the schema defaults of the limits involved', function () {
    const { server, session } = configSchema;
    const test = testConfig({});
    test.cleanup();
    expect(test.server.max_message_bytes).to.equal(server.max_message_bytes.default);
    expect(test.session.max_buffered_bytes).to.equal(session.max_buffered_bytes.default);
  });

  it('echoes 10 MB both ways on /mcp and /ws, and through REST', async function () {
    relay = await startRelay({ fixture: fixtureService() });
    const text = 'x'.repeat(TEN_MB);
    for (const mode of ['direct', 'mux'] as const) {
      const channel = await openChannel(mode, relay, 'fixture');
      channels.push(channel);
      channel.send(toolCall(mode, 'echo', { text }));
      const answer = await channel.next(30_000);
      expect(answer.id).to.equal(mode);
      expect(resultText(answer).length).to.equal(TEN_MB);
    }
    const rest = await http(`${relay.url}/services/fixture/call`, {
      method: 'POST',
      body: { tool: 'echo', session_id: 'big-1', arguments: { text } },
      timeoutMs: 30_000,
    });
    expect(rest.status, rest.text.slice(0, 200)).to.equal(200);
    expect((rest.body.result as string).length).to.equal(TEN_MB);
  });

  it("delivers @modelcontextprotocol/server-memory's ~10 MB read_graph answer on /mcp", async function () {
    const dir = mkdtempSync(join(tmpdir(), 'mcpmux-memory-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const memory = serviceConfig(['node', MEMORY_SERVER], {
      env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') },
      sandbox: { binds: [`${dir}:rw`] }, // the host's /tmp is not visible under namespaces
    });
    relay = await startRelay({ memory });
    const c = await WsCursor.connect(relay.ws('/mcp/memory'), 'mcp');
    cursors.push(c);
    c.send({ jsonrpc: '2.0', id: 'init', method: 'initialize', params: INIT_PARAMS });
    expect((await c.next(15_000)).id).to.equal('init');
    c.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    // 2,400 entities of ~2 KB: a ~5 MB request; the answer carries the graph twice (as
    // pretty-printed text and as structuredContent), ~10 MB on one line.
    const entities = Array.from({ length: 2400 }, (_, i) => ({
      name: `entity-${i}`,
      entityType: 'thing',
      observations: [`observation ${i} `.padEnd(2000, 'o')],
    }));
    c.send(toolCall('create', 'create_entities', { entities }));
    const created = await c.next(30_000);
    expect(created.id).to.equal('create');
    expect(created.error, JSON.stringify(created.error)).to.equal(undefined);
    c.send(toolCall('read', 'read_graph'));
    const frame = await c.nextText(30_000);
    expect(frame.length).to.be.above(9 * 1000 * 1000);
    const read = JSON.parse(frame);
    expect(read.id).to.equal('read');
    expect(read.result.structuredContent.entities).to.have.length(2400);
  });
});
