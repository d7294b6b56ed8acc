// `mcpmux loadtest --mode http` against real Streamable HTTP endpoints: supergateway 4
// (`--outputTransport streamableHttp --stateful`, one fixture server per session, answers as SSE)
// in front of test/fixtures/server.mjs, and the relay's own POST /mcp/{service}. Counts add up, errors are counted by reason, a refused
// initialize ends the run with the HTTP reason, and every session is DELETEd at the end (its
// server process exits while the gateway lives on).

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import { runLoad, type LoadSpec } from '../../src/loadtest/engine.js';
import { FIXTURE_SERVER, ROOT, fixtureService } from '../helpers/config.js';
import { serverProcesses, waitFor } from '../helpers/processes.js';
import { connectError, loadSpec } from '../helpers/loadtest.js';
import { startRelay, type TestRelay } from '../helpers/relay.js';

const SUPERGATEWAY = join(ROOT, 'node_modules/supergateway/dist/index.js');
const READY_MS = 15_000;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

interface Gateway {
  url: string;
  child: ChildProcess;
  stop(): Promise<void>;
}

/** supergateway stdio → Streamable HTTP (stateful), in its own process group; ready on /healthz. */
async function startGateway(): Promise<Gateway> {
  const port = await freePort();
  const args = [SUPERGATEWAY, '--stdio', `${process.execPath} ${FIXTURE_SERVER}`];
  args.push('--outputTransport', 'streamableHttp', '--stateful', '--port', String(port));
  args.push('--logLevel', 'none', '--healthEndpoint', '/healthz');
  // stdin stays open (supergateway exits when it closes); its own group, so stop() reaches all.
  const child = spawn(process.execPath, args, {
    stdio: ['pipe', 'ignore', 'ignore'],
    detached: true,
  });
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(-child.pid!, 'SIGTERM');
    const timer = setTimeout(() => process.kill(-child.pid!, 'SIGKILL'), 5000);
    await exited;
    clearTimeout(timer);
  };
  const base = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + READY_MS;
  for (;;) {
    const ok = await fetch(`${base}/healthz`).then(
      (r) => r.ok,
      () => false,
    );
    if (ok) break;
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`supergateway not ready on ${base} within ${READY_MS} ms`);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return { url: `${base}/mcp`, child, stop };
}

/** A Streamable HTTP load on `url`: 2 sessions × 3 in flight, 40 requests. */
function spec(url: string, overrides: Partial<LoadSpec> = {}): LoadSpec {
  return loadSpec(
    { mode: 'http', url },
    { connections: 2, inFlight: 3, requests: 40, ...overrides },
  );
}

describe('loadtest --mode http against supergateway streamableHttp (stateful)', function () {
  this.timeout(60_000);
  let gateway: Gateway;

  beforeEach(async () => {
    gateway = await startGateway();
  });
  afterEach(async () => {
    await gateway.stop();
  });

  it('drives 2 sessions for exactly 40 requests, all answered, then DELETEs both', async () => {
    const r = await runLoad(spec(gateway.url));
    // (supergateway's own command line names the fixture too)
    const servers = () =>
      serverProcesses('/test/fixtures/server.mjs').filter((p) => p.pid !== gateway.child.pid);
    expect(r.mode).to.equal('http');
    expect(r.ok).to.equal(40);
    expect(r.errorCount).to.equal(0);
    expect(r.errors).to.deep.equal({});
    expect(r.unfinished).to.equal(0);
    expect(r.latencyMs.count).to.equal(40);
    expect(r.latencyMs.p50).to.be.greaterThan(0);
    // DELETE ended both sessions: their servers exit, the gateway (30 min idle timeout) lives on
    await waitFor(
      () => servers().length === 0,
      10_000,
      'the sessions’ servers to exit after DELETE',
    );
    expect(gateway.child.exitCode).to.equal(null);
  });

  it('counts tool errors and upstream errors by reason; an unknown path fails initialize', async () => {
    const tool = await runLoad(spec(gateway.url, { params: { name: 'fail', arguments: {} } }));
    expect(tool.ok).to.equal(0);
    expect(tool.errors).to.deep.equal({ tool_error: 40 });
    const unknown = await runLoad(
      spec(gateway.url, { method: 'no/such', params: {}, requests: 5 }),
    );
    expect(unknown.errors).to.deep.equal({ 'upstream:-32601': 5 });
    const err = await connectError(runLoad(spec(gateway.url.replace(/\/mcp$/, '/nope'))));
    expect(err.reason).to.equal('http_404');
  });
});

describe('loadtest --mode http without a server', () => {
  it('reports a refused connection as connect_failed', async () => {
    const port = await freePort();
    const err = await connectError(runLoad(spec(`http://127.0.0.1:${port}/mcp`)));
    expect(err.reason).to.equal('connect_failed');
  });
});

describe('loadtest --mode http against the relay (POST /mcp/{service})', function () {
  this.timeout(60_000);
  let relay: TestRelay;

  before(async () => {
    relay = await startRelay({ fixture: fixtureService() });
  });
  after(async () => {
    await relay.close();
  });

  it('drives 2 sessions for exactly 60 requests, all answered, then DELETEs both', async () => {
    const r = await runLoad(spec(`${relay.url}/mcp/fixture`, { requests: 60, inFlight: 4 }));
    expect(r.ok).to.equal(60);
    expect(r.errors).to.deep.equal({});
    expect(r.unfinished).to.equal(0);
    expect(r.latencyMs.count).to.equal(60);
    // DELETE ended both sessions: no server of theirs is left (the relay stays up)
    await waitFor(
      () => serverProcesses('/test/fixtures/server.mjs').length === 0,
      10_000,
      'the sessions’ servers to exit after DELETE',
    );
  });

  it('a session the relay ended (its server crashed) is closed by the 404 that follows', async () => {
    const crash = { params: { name: 'crash', arguments: {} }, connections: 1, inFlight: 1 };
    const r = await runLoad(spec(`${relay.url}/mcp/fixture`, { ...crash, requests: 10 }));
    // the call that crashed it, then the next POST: 404 unknown_session, and nothing more is sent
    expect(r.errors).to.deep.equal({ upstream_exited: 1, unknown_session: 1 });
    expect(r.ok).to.equal(0);
    expect(r.unfinished).to.equal(0);
  });

  it('refuses an unknown service with the relay reason', async () => {
    const err = await connectError(runLoad(spec(`${relay.url}/mcp/nope`)));
    expect(err.reason).to.equal('unknown_service');
  });
});
