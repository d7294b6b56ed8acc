// The official SDK clients over Streamable HTTP through the relay (POST/GET/DELETE /mcp/{service}):
// SDK v1's StreamableHTTPClientTransport and SDK v2's (@modelcontextprotocol/client) against the
// fixture server: initialize, tools, progress, sampling, elicitation, cancellation, the resume of
// a dropped SSE stream, and DELETE ending the session and its process.
import { expect } from 'chai';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import { fixtureService } from '../helpers/config.js';
import { isAlive, serverPidByCwd, waitFor } from '../helpers/processes.js';
import { startRelay, type TestRelay } from '../helpers/relay.js';
import { within } from '../helpers/clients.js';

const DEADLINE_MS = 10_000;
const REQ = { timeout: DEADLINE_MS };

function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? '').join('\n');
}

describe('Streamable HTTP with the SDK v1 client', function () {
  let relay: TestRelay;
  const clients: { client: Client; transport: StreamableHTTPClientTransport }[] = [];

  before(async () => {
    relay = await startRelay({ fx: fixtureService() });
  });
  after(async () => {
    await relay.close();
  });
  afterEach(async () => {
    // An SDK v1 client's close() only drops its connections: DELETE ends the session.
    for (const { client, transport } of clients.splice(0)) {
      await transport.terminateSession().catch(() => undefined);
      await client.close().catch(() => undefined);
    }
  });

  async function connect(
    options: ConstructorParameters<typeof StreamableHTTPClientTransport>[1] = {},
  ): Promise<{ client: Client; transport: StreamableHTTPClientTransport }> {
    const transport = new StreamableHTTPClientTransport(new URL(`${relay.url}/mcp/fx`), options);
    const client = new Client(
      { name: 'shttp-test', version: '1.0.0' },
      { capabilities: { sampling: {}, elicitation: {} } },
    );
    clients.push({ client, transport });
    await within(client.connect(transport), DEADLINE_MS, 'connect');
    return { client, transport };
  }

  it('initializes, lists and calls tools; the session id is the secret token, not the listed id', async () => {
    const { client, transport } = await connect();
    const id = transport.sessionId!;
    expect(id).to.match(/^test-node\.[A-Za-z0-9_-]{43}$/);
    const listed = relay.relay.registry.all().map((s) => s.id);
    expect(listed).to.have.length(1);
    expect(listed).to.not.include(id);
    const tools = await client.listTools(undefined, REQ);
    expect(tools.tools.map((t) => t.name)).to.include('echo');
    const result = await client.callTool(
      { name: 'echo', arguments: { text: 'hi' } },
      undefined,
      REQ,
    );
    expect(textOf(result)).to.equal('hi');
  });

  it('DELETE ends the session and stops its process', async () => {
    const { client, transport } = await connect();
    const cwd = textOf(await client.callTool({ name: 'cwd', arguments: {} }, undefined, REQ));
    const pid = serverPidByCwd(cwd);
    await within(transport.terminateSession(), DEADLINE_MS, 'DELETE');
    expect(isAlive(pid)).to.equal(false);
    expect(relay.relay.registry.size).to.equal(0);
  });

  it("streams progress notifications during a call, on the call's own SSE stream", async () => {
    const { client } = await connect();
    const seen: Progress[] = [];
    const result = await client.callTool(
      { name: 'progress', arguments: { steps: 3, ms: 20 } },
      undefined,
      { ...REQ, onprogress: (p) => seen.push(p) },
    );
    expect(textOf(result)).to.equal('done 3');
    expect(seen.map((p) => p.progress)).to.deep.equal([1, 2, 3]);
  });

  it('answers sampling and elicitation: the server asks, the client answers by POST', async () => {
    const { client } = await connect();
    client.setRequestHandler(CreateMessageRequestSchema, (request) => ({
      model: 'test-model',
      role: 'assistant' as const,
      content: {
        type: 'text' as const,
        text: `sampled: ${JSON.stringify(request.params.messages[0]?.content)}`,
      },
    }));
    client.setRequestHandler(ElicitRequestSchema, () => ({
      action: 'accept' as const,
      content: { answer: 42 },
    }));
    const sampled = await client.callTool(
      { name: 'sample', arguments: { prompt: 'p1' } },
      undefined,
      REQ,
    );
    expect(textOf(sampled)).to.contain('sampled:').and.to.contain('p1');
    const elicited = await client.callTool(
      { name: 'elicit', arguments: { message: 'm' } },
      undefined,
      REQ,
    );
    expect(JSON.parse(textOf(elicited))).to.deep.equal({
      action: 'accept',
      content: { answer: 42 },
    });
  });

  it('a request aborted by the client reaches the server as notifications/cancelled', async () => {
    const { client } = await connect();
    const abort = new AbortController();
    const started = new Promise<void>((resolve) => {
      void client
        .callTool({ name: 'progress', arguments: { steps: 1000, ms: 20 } }, undefined, {
          ...REQ,
          signal: abort.signal,
          onprogress: () => resolve(),
        })
        .catch(() => undefined);
    });
    await within(started, DEADLINE_MS, 'first progress');
    abort.abort('test');
    await waitFor(() => relay.relay.registry.all()[0]?.inflightCount === 0, DEADLINE_MS, 'cancel');
    const ids = textOf(
      await client.callTool({ name: 'cancelled-ids', arguments: {} }, undefined, REQ),
    );
    expect(JSON.parse(ids)).to.have.length(1);
  });
});
