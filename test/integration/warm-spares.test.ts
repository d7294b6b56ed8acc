import { expect } from 'chai';
import { fixtureService } from '../helpers/config.js';
import { http } from '../helpers/http.js';
import { isAlive, waitFor } from '../helpers/processes.js';
import { startRelay, type TestRelay } from '../helpers/relay.js';

describe('warm spares (services.<name>.warm_spares)', function () {
  let relay: TestRelay | undefined;
  afterEach(async () => {
    await relay?.close();
    relay = undefined;
  });

  const manager = () => relay!.relay.manager;
  /** pids of the ready spares: live clients that no session owns. */
  const sparePids = () => {
    const owned = new Set(relay!.relay.registry.all().map((s) => s.client.pid));
    return manager()
      .clients()
      .filter((c) => c.state === 'running' && !owned.has(c.pid))
      .map((c) => c.pid!);
  };
  const call = (sessionId: string) =>
    http(`${relay!.url}/services/fixture/call`, {
      method: 'POST',
      body: { tool: 'pid', session_id: sessionId, arguments: {} },
    });
  const sessionPid = (sessionId: string) =>
    relay!.relay.registry.all().find((s) => s.id === sessionId || s.client.sessionId === sessionId)
      ?.client.pid;

  it('hands a ready spare to the next session, starts a replacement, shows them in /health and /metrics', async function () {
    relay = await startRelay({ fixture: fixtureService([], { warm_spares: 1 }) });
    await waitFor(() => manager().spareCount('fixture') === 1, 10_000, 'the spare');
    const [spare] = sparePids();
    const health = await http(`${relay.url}/health`);
    expect(health.body.services.fixture).to.include({ sessions: 0, spares: 1 });
    expect((await http(`${relay.url}/metrics`)).text).to.match(
      /^mcpmux_spares\{service="fixture"\} 1$/m,
    );

    const answer = await call('a');
    expect(answer.status).to.equal(200);
    const [session] = relay.relay.registry.all();
    expect(session!.client.pid, 'the session runs on the spare').to.equal(spare);
    await waitFor(() => manager().spareCount('fixture') === 1, 10_000, 'a replacement spare');
    expect(sparePids()).to.have.length(1);
    expect(sparePids()[0]).not.to.equal(spare);
    expect((await http(`${relay.url}/health`)).body.services.fixture).to.include({
      sessions: 1,
      spares: 1,
    });
  });

  it('a spare that dies is never handed out and is replaced', async function () {
    relay = await startRelay({ fixture: fixtureService([], { warm_spares: 1 }) });
    await waitFor(() => manager().spareCount('fixture') === 1, 10_000, 'the spare');
    const [dead] = sparePids();
    process.kill(-dead!, 'SIGKILL'); // its process group (bwrap and the server)
    await waitFor(() => !isAlive(dead!), 10_000, 'the spare to die');
    await waitFor(() => manager().spareCount('fixture') === 0, 10_000, 'the dead spare dropped');
    await waitFor(() => manager().spareCount('fixture') === 1, 10_000, 'its replacement');
    const [fresh] = sparePids();
    expect((await call('b')).status).to.equal(200);
    expect(sessionPid('b') ?? relay.relay.registry.all()[0]!.client.pid).to.equal(fresh);
  });

  it('spares hold session slots: at the limit a spare waits for a free one', async function () {
    relay = await startRelay(
      { fixture: fixtureService([], { warm_spares: 1 }) },
      { session: { max_sessions_per_service: 1 } },
    );
    await waitFor(() => manager().spareCount('fixture') === 1, 10_000, 'the spare');
    expect((await call('c')).status, 'the spare serves the only slot').to.equal(200);
    expect(manager().spareCount('fixture'), 'no room for a replacement').to.equal(0);
    expect((await call('d')).body.reason).to.equal('session_limit');
    expect((await http(`${relay.url}/sessions/c`, { method: 'DELETE' })).status).to.equal(200);
    await waitFor(() => manager().spareCount('fixture') === 1, 10_000, 'a spare in the freed slot');
  });
});
