// Access control (SPEC §9): bearer, basic and ?access_token= auth on plain requests and WebSocket
// upgrades (refused at the upgrade, before a WebSocket exists), open health routes, the browser
// Origin check and CORS, connection and channel caps with their reasons, and secrets kept out of
// the logs.
import { request } from 'node:http';
import { expect } from 'chai';
import { fixtureService, testConfig } from '../helpers/config.js';
import { Relay } from '../../src/relay.js';
import {
  basic,
  bearer,
  captureLogs,
  connectWs,
  http,
  refusedUpgrade,
  type HttpAnswer,
} from '../helpers/http.js';
import { waitFor } from '../helpers/processes.js';
import { INIT_PARAMS, startRelay, type TestRelay, type WsCursor } from '../helpers/relay.js';
import type { TestConfigOptions } from '../helpers/config.js';
import type { Logger } from '../../src/log.js';

const TOKEN = 'tok-3f9c1d2e8a7b6c5d';
const USER = 'operator';
const PASSWORD = '12345'; // looks like a number: must stay a string and work

describe('access control', function () {
  let relay: TestRelay | undefined;
  const sockets: WsCursor[] = [];

  async function start(options: TestConfigOptions & { logger?: Logger } = {}): Promise<TestRelay> {
    relay = await startRelay({ fixture: fixtureService() }, options);
    return relay;
  }

  async function ws(path: string, protocol?: string, headers: Record<string, string> = {}) {
    const cursor = await connectWs(relay!.ws(path), protocol, { headers });
    sockets.push(cursor);
    return cursor;
  }

  /** initialize + one echo on a direct connection: the session really works. */
  async function echoDirect(c: WsCursor): Promise<void> {
    c.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: INIT_PARAMS });
    expect((await c.next()).result.serverInfo.name).to.equal('fixture');
    c.send({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'hi' } },
    });
    expect((await c.next()).result.content[0].text).to.equal('hi');
  }

  function expectUnauthorized(answer: HttpAnswer, scheme: 'Bearer' | 'Basic'): void {
    expect(answer.status).to.equal(401);
    expect(answer.body).to.deep.equal({ error: 'authentication required', reason: 'unauthorized' });
    expect(String(answer.headers['www-authenticate'])).to.include(scheme);
  }

  afterEach(async function () {
    for (const s of sockets.splice(0)) s.ws.terminate();
    await relay?.close();
    relay = undefined;
  });

  describe('bearer token', function () {
    it('lets a right token in, refuses a missing or wrong one with 401 + WWW-Authenticate', async function () {
      await start({ server: { auth_token: TOKEN } });
      expectUnauthorized(await http(`${relay!.url}/services`), 'Bearer');
      expectUnauthorized(
        await http(`${relay!.url}/services`, { headers: bearer('nope') }),
        'Bearer',
      );
      expectUnauthorized(
        await http(`${relay!.url}/services`, { headers: bearer(TOKEN + 'x') }),
        'Bearer',
      );
      expectUnauthorized(
        await http(`${relay!.url}/services`, { headers: basic(USER, TOKEN) }),
        'Bearer',
      );
      const ok = await http(`${relay!.url}/services`, { headers: bearer(TOKEN) });
      expect(ok.status).to.equal(200);
      expect(ok.body).to.have.property('fixture');
      // the scheme name is case-insensitive
      const lower = await http(`${relay!.url}/services`, {
        headers: { authorization: `bearer ${TOKEN}` },
      });
      expect(lower.status).to.equal(200);
    });

    it('keeps /health, /healthz and /readyz open; /metrics and the REST routes need credentials', async function () {
      await start({ server: { auth_token: TOKEN } });
      for (const path of ['/health', '/healthz', '/readyz']) {
        const answer = await http(relay!.url + path);
        expect(answer.status, path).to.equal(200);
      }
      expect((await http(`${relay!.url}/health`)).body.status).to.equal('healthy');
      for (const path of ['/metrics', '/services', '/sessions', '/services/fixture/tools']) {
        expectUnauthorized(await http(relay!.url + path), 'Bearer');
      }
      expectUnauthorized(
        await http(`${relay!.url}/services/fixture/call`, {
          method: 'POST',
          body: { tool: 'echo', session_id: 's1' },
        }),
        'Bearer',
      );
      expect((await http(`${relay!.url}/metrics`, { headers: bearer(TOKEN) })).status).to.equal(
        200,
      );
      expect(relay!.relay.registry.size, 'nothing spawned for refused calls').to.equal(0);
    });

    it('does not accept ?access_token= on plain HTTP requests', async function () {
      await start({ server: { auth_token: TOKEN } });
      expectUnauthorized(await http(`${relay!.url}/services?access_token=${TOKEN}`), 'Bearer');
    });

    it('refuses WebSocket upgrades without credentials at the upgrade (401), before any WebSocket or process', async function () {
      await start({ server: { auth_token: TOKEN } });
      for (const [path, protocol] of [
        ['/ws', 'mcpmux.v1'],
        ['/mcp/fixture', 'mcp'],
      ] as const) {
        const refused = await refusedUpgrade(relay!.ws(path), {
          'Sec-WebSocket-Protocol': protocol,
        });
        expectUnauthorized(refused, 'Bearer');
        const wrong = await refusedUpgrade(relay!.ws(`${path}?access_token=wrong`));
        expect(wrong.status).to.equal(401);
        const wrongHeader = await refusedUpgrade(relay!.ws(path), bearer('wrong'));
        expect(wrongHeader.status).to.equal(401);
      }
      expect(relay!.relay.connectionCount).to.equal(0);
      expect(relay!.relay.registry.size).to.equal(0);
    });

    it('accepts WebSocket upgrades with an Authorization header or ?access_token=', async function () {
      await start({ server: { auth_token: TOKEN } });
      await echoDirect(await ws('/mcp/fixture', 'mcp', bearer(TOKEN)));
      await echoDirect(await ws(`/mcp/fixture?access_token=${encodeURIComponent(TOKEN)}`, 'mcp'));
      const mux = await ws(`/ws?access_token=${TOKEN}`, 'mcpmux.v1');
      mux.send({ type: 'open', channel: 'c1', service: 'fixture' });
      expect(await mux.next()).to.include({ type: 'opened', channel: 'c1' });
      // a wrong header is refused even with a right query token
      const mixed = await refusedUpgrade(relay!.ws(`/ws?access_token=${TOKEN}`), bearer('wrong'));
      expect(mixed.status).to.equal(401);
    });
  });

  describe('basic auth', function () {
    it('lets the right user and password in (a numeric-looking password included), refuses others', async function () {
      await start({ server: { auth_user: USER, auth_password: PASSWORD } });
      expectUnauthorized(await http(`${relay!.url}/services`), 'Basic');
      expectUnauthorized(
        await http(`${relay!.url}/services`, { headers: basic(USER, 'wrong') }),
        'Basic',
      );
      expectUnauthorized(
        await http(`${relay!.url}/services`, { headers: basic('someone', PASSWORD) }),
        'Basic',
      );
      expectUnauthorized(
        await http(`${relay!.url}/services`, { headers: { authorization: 'Basic !!!' } }),
        'Basic',
      );
      expectUnauthorized(
        await http(`${relay!.url}/services`, { headers: bearer(PASSWORD) }),
        'Basic',
      );
      expect(
        (await http(`${relay!.url}/services`, { headers: basic(USER, PASSWORD) })).status,
      ).to.equal(200);
      await echoDirect(await ws('/mcp/fixture', 'mcp', basic(USER, PASSWORD)));
      const refused = await refusedUpgrade(relay!.ws('/mcp/fixture'), basic(USER, 'wrong'));
      expectUnauthorized(refused, 'Basic');
    });

    it('accepts either credential when both a token and a user are configured', async function () {
      await start({ server: { auth_token: TOKEN, auth_user: USER, auth_password: PASSWORD } });
      const refused = await http(`${relay!.url}/services`);
      expect(refused.status).to.equal(401);
      expect(String(refused.headers['www-authenticate'])).to.match(/Bearer.*Basic/);
      expect((await http(`${relay!.url}/services`, { headers: bearer(TOKEN) })).status).to.equal(
        200,
      );
      expect(
        (await http(`${relay!.url}/services`, { headers: basic(USER, PASSWORD) })).status,
      ).to.equal(200);
    });
  });

  describe('Origin', function () {
    it('refuses a foreign Origin with 403 forbidden_origin; same-origin and no Origin pass', async function () {
      await start();
      const evil = { origin: 'http://evil.example' };
      for (const [path, protocol] of [
        ['/ws', 'mcpmux.v1'],
        ['/mcp/fixture', 'mcp'],
      ] as const) {
        const refused = await refusedUpgrade(relay!.ws(path), {
          ...evil,
          'Sec-WebSocket-Protocol': protocol,
        });
        expect(refused.status, path).to.equal(403);
        expect(refused.body.reason).to.equal('forbidden_origin');
      }
      // REST too: a foreign page must not drive tools through a browser (CSRF)
      const rest = await http(`${relay!.url}/services/fixture/call`, {
        method: 'POST',
        headers: { ...evil, 'content-type': 'text/plain' },
        body: JSON.stringify({ tool: 'echo', session_id: 's1' }),
      });
      expect(rest.status).to.equal(403);
      expect(rest.body.reason).to.equal('forbidden_origin');
      expect(relay!.relay.registry.size).to.equal(0);

      const { port } = relay!.relay.address;
      await echoDirect(await ws('/mcp/fixture', 'mcp', { origin: `http://127.0.0.1:${port}` }));
      await echoDirect(await ws('/mcp/fixture', 'mcp'));
      // the same host on another port is another origin
      const otherPort = await refusedUpgrade(relay!.ws('/ws'), {
        origin: `http://127.0.0.1:${port + 1}`,
      });
      expect(otherPort.status).to.equal(403);
      const nullOrigin = await refusedUpgrade(relay!.ws('/ws'), { origin: 'null' });
      expect(nullOrigin.status).to.equal(403);
    });

    it('allows listed origins, with wildcard ports and subdomains, and answers their CORS preflight', async function () {
      await start({
        server: {
          allowed_origins: ['http://localhost:*', 'https://*.example.com', 'https://app.test'],
        },
      });
      for (const origin of [
        'http://localhost:3000',
        'http://LOCALHOST:5173',
        'https://a.example.com',
        'https://app.test:443',
      ]) {
        const c = await ws('/ws', 'mcpmux.v1', { origin });
        c.send({ type: 'open', channel: 'c', service: 'nope' });
        expect((await c.next()).reason, origin).to.equal('unknown_service');
      }
      for (const origin of [
        'https://localhost:3000',
        'https://example.com',
        'http://app.test',
        'https://app.test:8443',
        'https://example.com.evil.net',
      ]) {
        const refused = await refusedUpgrade(relay!.ws('/ws'), { origin });
        expect(refused.status, origin).to.equal(403);
      }
      const preflight = await http(`${relay!.url}/services/fixture/call`, {
        method: 'OPTIONS',
        headers: {
          origin: 'http://localhost:3000',
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization, content-type',
        },
      });
      expect(preflight.status).to.equal(204);
      expect(preflight.headers['access-control-allow-origin']).to.equal('http://localhost:3000');
      expect(String(preflight.headers['access-control-allow-headers'])).to.include('authorization');
      const get = await http(`${relay!.url}/services`, {
        headers: { origin: 'http://localhost:3000' },
      });
      expect(get.status).to.equal(200);
      expect(get.headers['access-control-allow-origin']).to.equal('http://localhost:3000');
      const foreign = await http(`${relay!.url}/health`, {
        headers: { origin: 'http://evil.example' },
      });
      expect(foreign.headers['access-control-allow-origin']).to.equal(undefined);
    });
  });

  describe('Host (DNS rebinding)', function () {
    const EVIL = 'evil.example:8100';

    function expectForbiddenHost(answer: HttpAnswer, what: string): void {
      expect(answer.status, what).to.equal(403);
      expect(answer.body, what).to.deep.equal({
        error: `Host ${EVIL} is not allowed`,
        reason: 'forbidden_host',
      });
    }

    it('refuses a rebound name (Origin and Host both evil.example) on a loopback relay without auth: REST, health, upgrades', async function () {
      const logs = captureLogs();
      await start({ logger: logs.logger });
      const rebound = { origin: `http://${EVIL}`, host: EVIL };
      const call = await http(`${relay!.url}/services/fixture/call`, {
        method: 'POST',
        headers: rebound,
        body: { tool: 'echo', arguments: { text: 'pwned' }, session_id: 's1' },
      });
      expectForbiddenHost(call, 'call');
      for (const path of ['/services', '/healthz', '/health', '/metrics', '/nope']) {
        expectForbiddenHost(await http(`${relay!.url}${path}`, { headers: rebound }), path);
      }
      // a preflight too: no CORS answer for a rebound name
      const preflight = await http(`${relay!.url}/services/fixture/call`, {
        method: 'OPTIONS',
        headers: { ...rebound, 'access-control-request-method': 'POST' },
      });
      expectForbiddenHost(preflight, 'preflight');
      for (const [path, protocol] of [
        ['/ws', 'mcpmux.v1'],
        ['/mcp/fixture', 'mcp'],
      ] as const) {
        const refused = await refusedUpgrade(relay!.ws(path), {
          ...rebound,
          'Sec-WebSocket-Protocol': protocol,
        });
        expectForbiddenHost(refused, path);
        // without an Origin (a script outside a browser using the name) just the same
        expectForbiddenHost(await refusedUpgrade(relay!.ws(path), { host: EVIL }), path);
      }
      expect(relay!.relay.registry.size).to.equal(0);
      const events = logs.lines().filter((l) => l.security === 'forbidden_host');
      expect(events.length).to.be.greaterThan(0);
      expect(events[0]).to.include({ host: EVIL });
    });

    it('serves the loopback names on any port, and the names in allowed_hosts', async function () {
      await start();
      const { port } = relay!.relay.address;
      for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, '[::1]:8100', 'localhost']) {
        const answer = await http(`${relay!.url}/healthz`, { headers: { host } });
        expect(answer.status, host).to.equal(200);
      }
      await echoDirect(await ws('/mcp/fixture', 'mcp', { host: `localhost:${port}` }));
      await relay!.close();

      await start({ server: { allowed_hosts: ['relay.example.com'] } });
      const listed = await http(`${relay!.url}/services`, {
        headers: { host: 'relay.example.com:443', origin: 'https://relay.example.com' },
      });
      expect(listed.status).to.equal(200);
      const local = await http(`${relay!.url}/services`);
      expect(local.status).to.equal(200);
      expectForbiddenHost(await http(`${relay!.url}/healthz`, { headers: { host: EVIL } }), 'evil');
      await relay!.close();

      await start({ server: { allowed_hosts: ['*'] } });
      const any = await http(`${relay!.url}/healthz`, { headers: { host: EVIL } });
      expect(any.status).to.equal(200);
    });
  });

  describe('protected mode', function () {
    it('refuses to build a relay for a non-loopback host without auth, also from code', function () {
      const config = testConfig({}, { server: { host: '0.0.0.0' } });
      try {
        expect(() => new Relay(config)).to.throw(/protected mode/);
      } finally {
        config.cleanup();
      }
    });
  });

  describe('POST bodies', function () {
    const call = { tool: 'echo', arguments: { text: 'hi' }, session_id: 'ct' };

    it('accepts only application/json (with parameters), else 415 unsupported_media_type', async function () {
      await start();
      const url = `${relay!.url}/services/fixture/call`;
      for (const type of [
        'text/plain',
        'application/x-www-form-urlencoded',
        'multipart/form-data; boundary=x',
        'application/jsonx',
      ]) {
        const answer = await http(url, {
          method: 'POST',
          headers: { 'content-type': type },
          body: call,
        });
        expect(answer.status, type).to.equal(415);
        expect(answer.body.reason, type).to.equal('unsupported_media_type');
      }
      // no Content-Type at all
      const bare = await new Promise<number>((resolve, reject) => {
        const payload = JSON.stringify(call);
        const req = request(url, { method: 'POST', headers: { 'content-length': payload.length } });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end(payload);
      });
      expect(bare).to.equal(415);
      expect(relay!.relay.registry.size).to.equal(0);
      for (const type of ['application/json', 'Application/JSON; charset=utf-8']) {
        const ok = await http(url, {
          method: 'POST',
          headers: { 'content-type': type },
          body: call,
        });
        expect(ok.status, type).to.equal(200);
        expect(ok.body.result).to.equal('hi');
      }
    });

    it('asks for credentials before it looks at the body type', async function () {
      await start({ server: { auth_token: TOKEN } });
      const answer = await http(`${relay!.url}/services/fixture/call`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain' },
        body: call,
      });
      expect(answer.status).to.equal(401);
    });
  });

  describe('limits', function () {
    it('refuses upgrades past max_connections_per_address and max_connections with 503 connection_limit', async function () {
      await start({ server: { max_connections_per_address: 2 } });
      const a = await ws('/ws', 'mcpmux.v1');
      await ws('/ws', 'mcpmux.v1');
      const third = await refusedUpgrade(relay!.ws('/ws'));
      expect(third.status).to.equal(503);
      expect(third.body).to.deep.include({ reason: 'connection_limit' });
      expect(third.body.error).to.include('max_connections_per_address');
      // a closed connection frees its place
      a.ws.close();
      await a.expectClose();
      await waitFor(() => relay!.relay.connectionCount === 1, 5000, 'the first connection to go');
      await ws('/ws', 'mcpmux.v1');
      await relay!.close();

      await start({ server: { max_connections: 1 } });
      await ws('/ws', 'mcpmux.v1');
      const refused = await refusedUpgrade(relay!.ws('/mcp/fixture'));
      expect(refused.status).to.equal(503);
      expect(refused.body.reason).to.equal('connection_limit');
      expect(refused.body.error).to.include('max_connections');
      expect(relay!.relay.registry.size).to.equal(0);
    });

    it('refuses an open past max_channels_per_connection with an error envelope (channel_limit)', async function () {
      await start({ server: { max_channels_per_connection: 1 } });
      const c = await ws('/ws', 'mcpmux.v1');
      c.send({ type: 'open', channel: 'a', service: 'fixture' });
      expect(await c.next()).to.include({ type: 'opened', channel: 'a' });
      c.send({ type: 'open', channel: 'b', service: 'fixture' });
      expect(await c.next()).to.deep.include({
        type: 'error',
        channel: 'b',
        reason: 'channel_limit',
      });
      expect(relay!.relay.registry.size).to.equal(1);
    });
  });

  describe('behind a proxy', function () {
    it('takes the client address from the last X-Forwarded-For entry with trust_proxy, and only then', async function () {
      const logs = captureLogs();
      await start({
        server: { trust_proxy: true, max_connections_per_address: 1, auth_token: TOKEN },
        logger: logs.logger,
      });
      await ws('/ws', 'mcpmux.v1', { 'x-forwarded-for': 'spoofed, 203.0.113.7', ...bearer(TOKEN) });
      await ws('/ws', 'mcpmux.v1', { 'x-forwarded-for': '203.0.113.8', ...bearer(TOKEN) });
      const same = await refusedUpgrade(relay!.ws('/ws'), {
        'x-forwarded-for': '198.51.100.1, 203.0.113.7',
        ...bearer(TOKEN),
      });
      expect(same.status).to.equal(503);
      expect(same.body.reason).to.equal('connection_limit');
      await http(`${relay!.url}/services`, { headers: { 'x-forwarded-for': '192.0.2.9' } });
      const failure = logs.lines().find((l) => l.security === 'auth_failed');
      expect(failure?.ip).to.equal('192.0.2.9');
      await relay!.close();

      await start({ server: { max_connections_per_address: 1 } });
      await ws('/ws', 'mcpmux.v1', { 'x-forwarded-for': '203.0.113.7' });
      const ignored = await refusedUpgrade(relay!.ws('/ws'), { 'x-forwarded-for': '203.0.113.8' });
      expect(ignored.status, 'X-Forwarded-For is ignored without trust_proxy').to.equal(503);
    });
  });

  describe('logs', function () {
    it('never contain a token or password, whichever way it was sent; auth failures are security events', async function () {
      const logs = captureLogs();
      await start({
        server: { auth_token: TOKEN, auth_user: USER, auth_password: 'pw-7e1f0a9b' },
        logger: logs.logger,
      });
      await http(`${relay!.url}/services`, { headers: bearer(TOKEN) });
      await http(`${relay!.url}/services`, { headers: bearer('wrong-secret-1') });
      await http(`${relay!.url}/services?access_token=wrong-secret-2`);
      await http(`${relay!.url}/services`, { headers: basic(USER, 'pw-7e1f0a9b') });
      await http(`${relay!.url}/services`, { headers: basic(USER, 'wrong-secret-3') });
      await refusedUpgrade(relay!.ws('/ws?access_token=wrong-secret-4'));
      await refusedUpgrade(relay!.ws('/ws'), bearer('wrong-secret-5'));
      const c = await ws(`/mcp/fixture?access_token=${TOKEN}`, 'mcp');
      await echoDirect(c);
      c.ws.close();
      await c.expectClose();
      await waitFor(() => relay!.relay.registry.size === 0, 10_000, 'the session to stop');
      await relay!.close();
      relay = undefined;

      const text = logs.text();
      for (const secret of [
        TOKEN,
        'pw-7e1f0a9b',
        ...[1, 2, 3, 4, 5].map((i) => `wrong-secret-${i}`),
      ]) {
        expect(text, `log mentions ${secret}`).not.to.include(secret);
      }
      const base64 = Buffer.from(`${USER}:pw-7e1f0a9b`).toString('base64');
      expect(text).not.to.include(base64);
      const failures = logs.lines().filter((l) => l.security === 'auth_failed');
      expect(failures.length, 'auth_failed events').to.be.at.least(1);
      expect(failures[0]).to.include({ ip: '127.0.0.1', level: 40 });
      const opened = logs.lines().find((l) => l.msg === 'connection opened');
      expect(opened?.path).to.equal('/mcp/fixture?access_token=[Redacted]');
    });

    it('records REST session lifecycle and limit hits as security events', async function () {
      const logs = captureLogs();
      await start({
        rate_limiting: { enabled: true, requests_per_minute: 3 },
        logger: logs.logger,
      });
      const body = { tool: 'echo', arguments: { text: 'x' }, session_id: 'ev\u0007ent-1' };
      expect(
        (await http(`${relay!.url}/services/fixture/call`, { method: 'POST', body })).status,
      ).to.equal(400);
      body.session_id = 'event-1';
      expect(
        (await http(`${relay!.url}/services/fixture/call`, { method: 'POST', body })).status,
      ).to.equal(200);
      expect((await http(`${relay!.url}/sessions/event-1`, { method: 'DELETE' })).status).to.equal(
        200,
      );
      expect((await http(`${relay!.url}/sessions`)).status).to.equal(429);
      expect((await http(`${relay!.url}/sessions`)).status).to.equal(429);
      await waitFor(() => relay!.relay.registry.size === 0, 10_000, 'the session to stop');
      const events = logs.lines().filter((l) => l.security !== undefined);
      const names = events.map((l) => l.security);
      expect(names).to.include.members([
        'session_opened',
        'session_deleted',
        'session_closed',
        'rate_limited',
      ]);
      expect(events.find((l) => l.security === 'session_opened')).to.include({
        session_id: 'event-1',
        service: 'fixture',
        ip: '127.0.0.1',
      });
      expect(events.find((l) => l.security === 'session_closed')).to.include({
        reason: 'session_closed',
      });
      // a flood of one event from one address is one line
      expect(names.filter((n) => n === 'rate_limited')).to.have.length(1);
    });
  });
});
