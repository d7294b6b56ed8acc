// Streamable HTTP on /mcp/{service} at the HTTP level (docs/protocol.md, "Streamable HTTP"): answer
// formats, session ids, the 400/404/406/409/413/415 cases, versions (2026-07-28 refused by name),
// stream routing (the request's own stream, the GET stream and its buffer), Last-Event-ID replay,
// limits and timeouts of the request lifecycle, and the access layer (Host, Origin, CORS, auth).
import { expect } from 'chai';
import { fixtureService } from '../helpers/config.js';
import { waitFor } from '../helpers/processes.js';
import { startRelay, type TestRelay } from '../helpers/relay.js';
import { ACCEPT_BOTH, INITIALIZE, McpHttpTester, jsonOf } from '../helpers/sse-client.js';
import { toolCall } from '../helpers/jsonrpc.js';

const BOTH = ACCEPT_BOTH;

describe('Streamable HTTP at the HTTP level', function () {
  let relay: TestRelay;
  const t = new McpHttpTester(() => relay.url);
  const send = t.send.bind(t);
  const init = t.init.bind(t);
  const post = t.post.bind(t);
  const get = t.get.bind(t);

  before(async () => {
    relay = await startRelay(
      { fx: fixtureService(), limited: fixtureService() },
      { server: { max_message_bytes: 64 * 1024 } },
    );
  });
  after(async () => {
    await relay.close();
  });
  afterEach(async () => {
    await t.cleanup();
    await waitFor(() => relay.relay.registry.size === 0, 10_000, 'sessions to end');
  });

  describe('answers', () => {
    it('initialize answers JSON with Mcp-Session-Id when only JSON is accepted; a request → JSON', async () => {
      const id = await init();
      const answer = await post(id, toolCall(1, 'echo', { text: 'j' }), 'fx', 'application/json');
      expect(answer.headers['content-type']).to.match(/^application\/json/);
      expect((await jsonOf(answer)).result.content[0].text).to.equal('j');
    });

    it('SSE when Accept lists text/event-stream: a priming event, then the response, then the end', async () => {
      const id = await init('fx', BOTH);
      const answer = await post(id, toolCall(1, 'echo', { text: 's' }));
      expect(answer.headers['content-type']).to.equal('text/event-stream');
      const priming = await answer.nextEvent();
      expect(priming.data).to.equal('');
      expect(priming.id).to.match(/^\d+-\d+$/);
      const event = await answer.next();
      expect(event.message.result.content[0].text).to.equal('s');
      expect(event.id!.split('-')[0]).to.equal(priming.id!.split('-')[0]);
      await answer.ended();
    });

    it('a notification or a response → 202 with no body', async () => {
      const id = await init();
      const note = await post(id, { jsonrpc: '2.0', method: 'notifications/roots/list_changed' });
      expect(note.status).to.equal(202);
      expect(await note.body()).to.equal('');
    });

    it('batches are refused with -32600 (400), whatever the version', async () => {
      const id = await init();
      const answer = await post(id, [toolCall(1, 'echo', { text: 'a' })]);
      expect(answer.status).to.equal(400);
      expect((await jsonOf(answer)).error.code).to.equal(-32600);
    });

    it('406 when Accept allows neither JSON nor SSE; 415 for a body not sent as JSON', async () => {
      const id = await init();
      const refused = await post(id, toolCall(1, 'echo', {}), 'fx', 'text/html');
      expect(refused.status).to.equal(406);
      expect((await jsonOf(refused)).error.data.reason).to.equal('not_acceptable');
      const plain = await send('fx', {
        method: 'POST',
        headers: { 'content-type': 'text/plain', 'mcp-session-id': id, accept: BOTH },
        body: JSON.stringify(toolCall(2, 'echo', {})),
      });
      expect(plain.status).to.equal(415);
    });
  });

  it('a body over max_message_bytes → 413; HEAD → 405', async () => {
    const id = await init();
    const big = await post(id, toolCall(1, 'echo', { text: 'x'.repeat(70 * 1024) }));
    expect(big.status).to.equal(413);
    expect((await jsonOf(big)).error.data.reason).to.equal('message_too_large');
    const head = await send('fx', { method: 'HEAD', headers: { 'mcp-session-id': id } });
    expect(head.status).to.equal(405);
  });

  describe('sessions', () => {
    it('400 without Mcp-Session-Id; 404 for an unknown id and for the listed session id', async () => {
      const missing = await post(undefined, toolCall(1, 'echo', {}));
      expect(missing.status).to.equal(400);
      expect((await jsonOf(missing)).error.data.reason).to.equal('missing_session_id');
      const unknown = await post('test-node.nope', toolCall(1, 'echo', {}));
      expect(unknown.status).to.equal(404);
      expect((await jsonOf(unknown)).error.data.reason).to.equal('unknown_session');
      await init();
      const listedId = relay.relay.registry.all()[0]!.id;
      const listed = await post(listedId, toolCall(1, 'echo', {}));
      expect(listed.status).to.equal(404);
      const getUnknown = await get('test-node.nope');
      expect(getUnknown.status).to.equal(404);
      const del = await send('fx', { method: 'DELETE' });
      expect(del.status).to.equal(400);
    });

    it('a session of another service is unknown on this path (404)', async () => {
      const id = await init('fx');
      expect((await post(id, toolCall(1, 'echo', {}), 'limited')).status).to.equal(404);
    });

    it('GET /sessions lists it by its uuid with transport "http", never its Mcp-Session-Id', async () => {
      const id = await init();
      const uuid = relay.relay.registry.all()[0]!.id;
      const res = await fetch(`${relay.url}/sessions`);
      expect(res.status).to.equal(200);
      const text = await res.text();
      expect(text).not.to.include(id);
      const listed = (JSON.parse(text) as Record<string, Record<string, unknown>>)[uuid];
      expect(listed).to.include({ service_name: 'fx', transport: 'http', state: 'attached' });
    });

    it('after DELETE the session id answers 404', async () => {
      const id = await init();
      const del = await send('fx', { method: 'DELETE', headers: { 'mcp-session-id': id } });
      expect(del.status).to.equal(204);
      expect((await post(id, toolCall(1, 'echo', {}))).status).to.equal(404);
    });
  });

  describe('versions', () => {
    it('a 2026-07-28 client gets 400 naming the revisions served (header and server/discover)', async () => {
      const byHeader = await send('fx', {
        method: 'POST',
        headers: { accept: BOTH, 'mcp-protocol-version': '2026-07-28' },
        body: { jsonrpc: '2.0', id: 1, method: 'tools/list' },
      });
      expect(byHeader.status).to.equal(400);
      const error = (await jsonOf(byHeader)).error;
      expect(error.data.reason).to.equal('unsupported_version');
      expect(error.data.supported).to.deep.equal(['2025-11-25', '2025-06-18', '2025-03-26']);
      expect(error.message).to.contain('2026-07-28').and.to.contain('2025-11-25');
      const discover = await send('fx', {
        method: 'POST',
        headers: { accept: BOTH },
        body: { jsonrpc: '2.0', id: 1, method: 'server/discover' },
      });
      expect(discover.status).to.equal(400);
      const d = (await jsonOf(discover)).error;
      expect(d.data.reason).to.equal('unsupported_version');
      expect(d.message).to.contain('2025-06-18');
      expect(relay.relay.registry.size).to.equal(0);
    });

    it('an unknown MCP-Protocol-Version → 400; an absent one is taken as 2025-03-26', async () => {
      const id = await init();
      const bad = await send('fx', {
        method: 'POST',
        headers: { accept: BOTH, 'mcp-session-id': id, 'mcp-protocol-version': '1999-01-01' },
        body: toolCall(1, 'echo', {}),
      });
      expect(bad.status).to.equal(400);
      // A 2025-03-26 session (initialize said so, no version header): no priming event.
      const oldInit = {
        ...INITIALIZE,
        params: { ...INITIALIZE.params, protocolVersion: '2025-03-26' },
      };
      const opened = await send('fx', { method: 'POST', headers: { accept: BOTH }, body: oldInit });
      const oldId = opened.headers['mcp-session-id'] as string;
      t.opened.push({ service: 'fx', id: oldId });
      expect((await opened.nextEvent()).data).to.not.equal('');
      const old = await send('fx', {
        method: 'POST',
        headers: { accept: BOTH, 'mcp-session-id': oldId },
        body: toolCall(2, 'echo', { text: 'old' }),
      });
      const first = await old.nextEvent();
      expect(JSON.parse(first.data).result.content[0].text).to.equal('old');
    });

    it('in a 2025-11-25 session even a request naming 2025-03-26 gets a priming event with retry', async () => {
      const id = await init();
      const answer = await send('fx', {
        method: 'POST',
        headers: { accept: BOTH, 'mcp-session-id': id, 'mcp-protocol-version': '2025-03-26' },
        body: toolCall(1, 'echo', { text: 'p' }),
      });
      const text = await answer.body();
      expect(text).to.match(/^id: \d+-\d+\nretry: \d+\ndata: \n\n/);
    });
  });
});
