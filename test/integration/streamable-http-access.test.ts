// The access layer on Streamable HTTP /mcp/{service}, as on every route (docs/operations.md): the
// Host allow-list (DNS rebinding), the Origin policy, CORS for listed origins with the MCP headers,
// auth, and the session limit refusing an initialize before anything is spawned.
import { expect } from 'chai';
import { fixtureService } from '../helpers/config.js';
import { waitFor } from '../helpers/processes.js';
import { startRelay, type TestRelay } from '../helpers/relay.js';
import { INITIALIZE, McpHttpTester, jsonOf } from '../helpers/sse-client.js';
import { toolCall } from '../helpers/jsonrpc.js';

const TOKEN = 'shttp-secret-token';
const LISTED = 'https://app.example.com';

describe('Streamable HTTP access', function () {
  let relay: TestRelay;
  const t = new McpHttpTester(() => relay.url);

  before(async () => {
    relay = await startRelay(
      { fx: fixtureService() },
      {
        server: { auth_token: TOKEN, allowed_origins: [LISTED] },
        session: { max_sessions_per_service: 1 },
      },
    );
  });
  after(async () => {
    await relay.close();
  });
  beforeEach(() => {
    t.headers = { authorization: `Bearer ${TOKEN}` };
  });
  afterEach(async () => {
    t.headers = { authorization: `Bearer ${TOKEN}` };
    await t.cleanup();
    await waitFor(() => relay.relay.registry.size === 0, 10_000, 'sessions to end');
  });

  const initialize = (headers: Record<string, string>) =>
    t.send('fx', {
      method: 'POST',
      headers: { accept: 'application/json', ...headers },
      body: INITIALIZE,
    });

  it('401 without credentials (nothing spawned), 200 with the token', async () => {
    t.headers = {};
    const refused = await initialize({});
    expect(refused.status).to.equal(401);
    expect(refused.headers['www-authenticate']).to.be.a('string');
    expect(relay.relay.registry.size).to.equal(0);
    t.headers = { authorization: `Bearer ${TOKEN}` };
    const id = await t.init();
    expect(id).to.be.a('string');
  });

  it('a foreign Host is refused with 403 (DNS rebinding), also with a valid session id', async () => {
    const id = await t.init();
    const refused = await t.send('fx', {
      method: 'POST',
      headers: { host: 'evil.example:80', accept: 'application/json', 'mcp-session-id': id },
      body: toolCall(1, 'echo', {}),
    });
    expect(refused.status).to.equal(403);
    expect((await jsonOf(refused)).reason).to.equal('forbidden_host');
  });

  it('a foreign Origin is refused with 403', async () => {
    const refused = await initialize({ origin: 'http://evil.example' });
    expect(refused.status).to.equal(403);
    expect((await jsonOf(refused)).reason).to.equal('forbidden_origin');
    expect(relay.relay.registry.size).to.equal(0);
  });

  it('a listed Origin gets CORS: the preflight allows the MCP headers, Mcp-Session-Id is exposed', async () => {
    t.headers = {};
    const preflight = await t.send('fx', {
      method: 'OPTIONS',
      headers: {
        origin: LISTED,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'mcp-session-id, mcp-protocol-version, content-type',
      },
    });
    expect(preflight.status).to.equal(204);
    const allowed = String(preflight.headers['access-control-allow-headers']).split(/,\s*/);
    for (const h of [
      'mcp-session-id',
      'mcp-protocol-version',
      'last-event-id',
      'authorization',
      'content-type',
    ]) {
      expect(allowed, h).to.include(h);
    }
    expect(String(preflight.headers['access-control-allow-methods'])).to.contain('DELETE');
    t.headers = { authorization: `Bearer ${TOKEN}` };
    const answer = await initialize({ origin: LISTED });
    expect(answer.status).to.equal(200);
    t.opened.push({ service: 'fx', id: answer.headers['mcp-session-id'] as string });
    expect(answer.headers['access-control-allow-origin']).to.equal(LISTED);
    expect(String(answer.headers['access-control-expose-headers'])).to.contain('Mcp-Session-Id');
  });

  it('beyond max_sessions_per_service an initialize gets session_limit (503)', async () => {
    await t.init();
    const refused = await initialize({});
    expect(refused.status).to.equal(503);
    const body = await jsonOf(refused);
    expect(body.id).to.equal(0);
    expect(body.error.data.reason).to.equal('session_limit');
  });
});
