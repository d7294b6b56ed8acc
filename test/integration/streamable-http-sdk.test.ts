// The official SDK clients over Streamable HTTP through the relay (POST/GET/DELETE /mcp/{service}):
// SDK v1's StreamableHTTPClientTransport and SDK v2's (@modelcontextprotocol/client), each against
// the fixture server: initialize, tools, progress, sampling, elicitation, cancellation, the resume
// of a dropped SSE stream, DELETE ending the session and its process, and a crash.
import { expect } from 'chai';
import type { Progress } from '@modelcontextprotocol/sdk/types.js';
import { fixtureService } from '../helpers/config.js';
import { isAlive, serverPidByCwd, waitFor } from '../helpers/processes.js';
import { startRelay, type TestRelay } from '../helpers/relay.js';
import { within } from '../helpers/clients.js';
import {
  connectHttp,
  droppingFetch,
  type HttpMcpClient,
  type SdkVersion,
} from '../helpers/shttp-clients.js';

const DEADLINE_MS = 10_000;
const REQ = { timeout: DEADLINE_MS };

function textOf(result: unknown): string {
  const content = (result as { content?: { type: string; text?: string }[] }).content ?? [];
  return content.map((c) => c.text ?? '').join('\n');
}

for (const version of ['v1', 'v2'] as SdkVersion[]) {
  describe(`Streamable HTTP with the SDK ${version} client`, function () {
    let relay: TestRelay;
    const clients: HttpMcpClient[] = [];

    before(async () => {
      relay = await startRelay({ fx: fixtureService() });
    });
    after(async () => {
      await relay.close();
    });
    afterEach(async () => {
      // An SDK client's close() only drops its connections: DELETE ends the session.
      for (const client of clients.splice(0)) {
        await client.terminate().catch(() => undefined);
        await client.close().catch(() => undefined);
      }
      await waitFor(() => relay.relay.registry.size === 0, DEADLINE_MS, 'sessions to end');
    });

    async function connect(options: Parameters<typeof connectHttp>[2] = {}) {
      const client = await within(
        connectHttp(version, `${relay.url}/mcp/fx`, options),
        DEADLINE_MS,
        'connect',
      );
      clients.push(client);
      return client;
    }

    const call = async (c: HttpMcpClient, name: string, args: Record<string, unknown> = {}) =>
      textOf(await c.callTool(name, args, REQ));

    it('initializes, lists and calls tools; the session id is the secret token, not the listed id', async () => {
      const client = await connect();
      const id = client.sessionId!;
      expect(id).to.match(/^test-node\.[A-Za-z0-9_-]{43}$/);
      const listed = relay.relay.registry.all().map((s) => s.id);
      expect(listed).to.have.length(1);
      expect(listed).to.not.include(id);
      expect(await client.listTools(DEADLINE_MS)).to.include('echo');
      expect(await call(client, 'echo', { text: 'hi' })).to.equal('hi');
    });

    it('DELETE ends the session and stops its process', async () => {
      const client = await connect();
      const pid = serverPidByCwd(await call(client, 'cwd'));
      await within(client.terminate(), DEADLINE_MS, 'DELETE');
      expect(isAlive(pid)).to.equal(false);
      expect(relay.relay.registry.size).to.equal(0);
    });

    it("streams progress notifications during a call, on the call's own SSE stream", async () => {
      const client = await connect();
      const seen: Progress[] = [];
      const result = await client.callTool(
        'progress',
        { steps: 3, ms: 20 },
        { ...REQ, onprogress: (p) => seen.push(p) },
      );
      expect(textOf(result)).to.equal('done 3');
      expect(seen.map((p) => p.progress)).to.deep.equal([1, 2, 3]);
    });

    it('answers sampling and elicitation: the server asks, the client answers by POST', async () => {
      const client = await connect();
      client.onSampling((prompt) => `sampled: ${prompt}`);
      client.onElicit(() => ({ answer: 'yes' }));
      const sampled = await call(client, 'sample', { prompt: 'p1' });
      expect(sampled).to.contain('sampled:').and.to.contain('p1');
      const elicited = JSON.parse(await call(client, 'elicit', { message: 'm' }));
      expect(elicited).to.deep.equal({ action: 'accept', content: { answer: 'yes' } });
    });

    it('a request aborted by the client reaches the server as notifications/cancelled', async () => {
      const client = await connect();
      const abort = new AbortController();
      const started = new Promise<void>((resolve) => {
        client
          .callTool(
            'progress',
            { steps: 1000, ms: 20 },
            { ...REQ, signal: abort.signal, onprogress: () => resolve() },
          )
          .catch(() => undefined);
      });
      await within(started, DEADLINE_MS, 'first progress');
      abort.abort('test');
      const session = relay.relay.registry.all()[0]!;
      await waitFor(() => session.inflightCount === 0, DEADLINE_MS, 'the cancel to arrive');
      expect(JSON.parse(await call(client, 'cancelled-ids'))).to.have.length(1);
    });

    it('a dropped SSE answer is resumed with Last-Event-ID: the call completes, nothing is cancelled', async () => {
      const dropping = droppingFetch();
      const client = await connect({ fetch: dropping.fetch });
      dropping.arm();
      const seen: Progress[] = [];
      const result = await client.callTool(
        'progress',
        { steps: 4, ms: 20 },
        { ...REQ, onprogress: (p) => seen.push(p) },
      );
      expect(textOf(result)).to.equal('done 4');
      expect(seen.map((p) => p.progress)).to.deep.equal([1, 2, 3, 4]);
      const resumed = dropping.resumes.filter((id) => id !== null && !id.startsWith('0-'));
      expect(resumed, 'a GET resuming the call stream').to.have.length.greaterThan(0);
      expect(JSON.parse(await call(client, 'cancelled-ids'))).to.deep.equal([]);
    });

    it('a crash answers the call in flight with upstream_exited; the session is then unknown (404)', async () => {
      const client = await connect();
      const failed = await client.callTool('crash', {}, REQ).then(
        () => undefined,
        (err: unknown) => err as { code?: number; data?: { reason?: string }; message: string },
      );
      expect(failed?.data?.reason ?? failed?.message).to.contain('upstream_exited');
      await waitFor(() => relay.relay.registry.size === 0, DEADLINE_MS, 'the session to end');
      const after = await client.callTool('echo', { text: 'x' }, REQ).catch((e: unknown) => e);
      expect(String(after)).to.match(/404|session/i);
    });
  });
}
