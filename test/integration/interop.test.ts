// Real MCP servers from npm, under the default sandbox, through MCPClient.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { ClientPool, textOf } from '../helpers/clients.js';
import { EVERYTHING_SERVER, MEMORY_SERVER, serviceConfig } from '../helpers/config.js';

describe('MCPClient with real MCP servers (default sandbox)', function () {
  const pool = new ClientPool();
  afterEach(() => pool.close());

  it('runs @modelcontextprotocol/server-everything: initialize, list tools, echo', async function () {
    const client = pool.client(serviceConfig(['node', EVERYTHING_SERVER]), {}, 'everything');
    await client.start({ initialize: true });
    const info = client.initializeResult as {
      serverInfo: { name: string };
      protocolVersion: string;
    };
    expect(info.serverInfo.name).to.match(/everything/);
    const tools = await client.listTools();
    expect(tools.map((t) => t.name)).to.include.members(['echo', 'get-sum']);
    expect(textOf(await client.callTool('echo', { message: 'through mcpmux' }))).to.match(
      /through mcpmux/,
    );
    const exit = await client.stop();
    expect(exit.requested).to.equal(true);
  });

  it('runs @modelcontextprotocol/server-memory: create_entities and read_graph', async function () {
    const dir = mkdtempSync(join(tmpdir(), 'mcpmux-memory-'));
    after(() => rmSync(dir, { recursive: true, force: true }));
    const client = pool.client(
      serviceConfig(['node', MEMORY_SERVER], {
        env: { MEMORY_FILE_PATH: join(dir, 'memory.jsonl') },
        // under isolation "namespaces" the system (and /tmp) is not the host's: bind the dir
        sandbox: { binds: [`${dir}:rw`] },
      }),
      {},
      'memory',
    );
    await client.start();
    await client.initialize();
    const tools = await client.listTools();
    expect(tools.map((t) => t.name)).to.include('create_entities');
    const created = await client.callTool('create_entities', {
      entities: [{ name: 'mcpmux', entityType: 'project', observations: ['relays MCP'] }],
    });
    expect(created.isError ?? false).to.equal(false);
    const graph = textOf(await client.callTool('read_graph'));
    expect(graph).to.include('mcpmux');
  });
});
