// TLS (SPEC §9): with server.tls.cert and server.tls.key the relay serves https and wss on its one
// port. The certificate is a self-signed one made here with openssl, valid for 127.0.0.1.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { fixtureService } from '../helpers/config.js';
import { connectWs, http, refusedUpgrade } from '../helpers/http.js';
import { INIT_PARAMS, startRelay, type TestRelay, type WsCursor } from '../helpers/relay.js';
import { createHttpServer } from '../../src/http/http-server.js';
import { testConfig } from '../helpers/config.js';

describe('TLS', function () {
  let dir: string;
  let cert: string;
  let key: string;
  let ca: Buffer;
  let relay: TestRelay | undefined;
  const sockets: WsCursor[] = [];

  before(function () {
    this.timeout(30_000);
    dir = mkdtempSync(join(tmpdir(), 'mcpmux-tls-'));
    cert = join(dir, 'cert.pem');
    key = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=DNS:localhost,IP:127.0.0.1',
        '-days',
        '1',
        '-keyout',
        key,
        '-out',
        cert,
      ],
      { stdio: 'ignore', timeout: 20_000 },
    );
    ca = readFileSync(cert);
  });

  after(function () {
    rmSync(dir, { recursive: true, force: true });
  });

  afterEach(async function () {
    for (const s of sockets.splice(0)) s.ws.terminate();
    await relay?.close();
    relay = undefined;
  });

  it('serves https: health, REST and HSTS', async function () {
    relay = await startRelay({ fixture: fixtureService() }, { server: { tls: { cert, key } } });
    expect(relay.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
    const health = await http(`${relay.url}/health`, { ca });
    expect(health.status).to.equal(200);
    expect(health.body.status).to.equal('healthy');
    expect(health.headers['strict-transport-security']).to.match(/max-age=\d+/);
    const called = await http(`${relay.url}/services/fixture/call`, {
      method: 'POST',
      ca,
      body: { tool: 'echo', arguments: { text: 'over tls' }, session_id: 't1' },
    });
    expect(called.body.result).to.equal('over tls');
    // a client that does not trust the certificate cannot connect
    const untrusted = await http(`${relay.url}/health`).then(
      () => 'connected',
      (err: unknown) => String(err),
    );
    expect(untrusted).to.match(/self.signed|certificate/i);
  });

  it('serves wss on /mcp/{service} and /ws, with auth and the Origin check still applied', async function () {
    relay = await startRelay(
      { fixture: fixtureService() },
      { server: { tls: { cert, key }, auth_token: 'tls-token' } },
    );
    const direct = await connectWs(relay.ws('/mcp/fixture?access_token=tls-token'), 'mcp', { ca });
    sockets.push(direct);
    expect(relay.ws('/x')).to.match(/^wss:/);
    direct.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: INIT_PARAMS });
    expect((await direct.next()).result.serverInfo.name).to.equal('fixture');
    direct.send({
      jsonrpc: '2.0',
      id: 2,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'wss' } },
    });
    expect((await direct.next()).result.content[0].text).to.equal('wss');

    const mux = await connectWs(relay.ws('/ws'), 'mcpmux.v1', {
      ca,
      headers: { authorization: 'Bearer tls-token' },
    });
    sockets.push(mux);
    mux.send({ type: 'open', channel: 'c1', service: 'fixture' });
    expect(await mux.next()).to.include({ type: 'opened', channel: 'c1' });

    const noAuth = await refusedUpgrade(relay.ws('/ws'), {}, ca);
    expect(noAuth.status).to.equal(401);
    const { port } = relay.relay.address;
    const sameOrigin = await connectWs(relay.ws('/ws?access_token=tls-token'), 'mcpmux.v1', {
      ca,
      headers: { origin: `https://127.0.0.1:${port}` },
    });
    sockets.push(sameOrigin);
    const foreign = await refusedUpgrade(
      relay.ws('/ws?access_token=tls-token'),
      { origin: 'https://evil.example' },
      ca,
    );
    expect(foreign.status).to.equal(403);
  });

  it('refuses a config with only one of tls.cert and tls.key', function () {
    const config = testConfig({}, { server: { tls: { cert, key: '' } } });
    try {
      expect(() =>
        createHttpServer(config, {
          request: () => undefined,
          checkUpgrade: () => undefined,
          prepare: () => Promise.resolve({ context: undefined, headers: [] }),
          abandon: () => undefined,
          connection: () => undefined,
        }),
      ).to.throw(/tls\.cert and server\.tls\.key/);
    } finally {
      config.cleanup();
    }
  });
});
