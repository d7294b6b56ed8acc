import { expect } from 'chai';
import { McpmuxError } from '../../src/errors.js';
import { MCPManager } from '../../src/sessions/mcp-manager.js';
import { textOf } from '../helpers/clients.js';
import { fixtureService, testConfig } from '../helpers/config.js';
import { isAlive, waitFor } from '../helpers/processes.js';

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as McpmuxError).reason;
  }
  throw new Error('expected a rejection');
}

describe('MCPManager', function () {
  let manager: MCPManager;
  let cleanup: () => void;

  function makeManager(sessionLimits: { perService?: number; total?: number } = {}) {
    const config = testConfig(
      {
        fixture: fixtureService(['--page-size=4']),
        other: fixtureService(),
        off: { ...fixtureService(), enabled: false },
      },
      {
        session: {
          max_sessions_per_service: sessionLimits.perService ?? 100,
          max_total_sessions: sessionLimits.total ?? 500,
        },
      },
    );
    cleanup = config.cleanup;
    manager = new MCPManager(config, { stopGraceMs: 300 });
    return manager;
  }

  afterEach(async () => {
    await manager.shutdown();
    cleanup();
  });

  it('lists every configured service, disabled ones included and marked', function () {
    makeManager();
    expect([...manager.services.keys()]).to.deep.equal(['fixture', 'other', 'off']);
    expect(manager.services.get('off')!.enabled).to.equal(false);
    expect(manager.services.get('fixture')!.describe()).to.deep.equal({
      description: 'test service',
      enabled: true,
    });
  });

  it('refuses unknown and disabled services with their reasons, spawning nothing', async function () {
    makeManager();
    expect(await reasonOf(manager.createClient('nope'))).to.equal('unknown_service');
    expect(await reasonOf(manager.createClient('off'))).to.equal('service_disabled');
    expect(manager.stats().spawns).to.equal(0);
  });

  it('refuses past max_sessions_per_service and max_total_sessions without spawning', async function () {
    makeManager({ perService: 1, total: 2 });
    await manager.createClient('fixture');
    expect(await reasonOf(manager.createClient('fixture'))).to.equal('session_limit');
    await manager.createClient('other');
    expect(await reasonOf(manager.createClient('other'))).to.equal('session_limit');
    expect(manager.stats().spawns).to.equal(2);
    expect(manager.sessionCount()).to.equal(2);
  });

  it('frees a session slot when its process exits', async function () {
    makeManager({ perService: 1 });
    const client = await manager.createClient('fixture', { initialize: true });
    await client.stop();
    expect(manager.sessionCount('fixture')).to.equal(0);
    const again = await manager.createClient('fixture', { initialize: true });
    expect(textOf(await again.callTool('echo', { text: 'again' }))).to.equal('again');
  });

  it('spawns concurrently: several clients start together', async function () {
    makeManager();
    const clients = await Promise.all(
      [1, 2, 3, 4].map(() => manager.createClient('fixture', { initialize: true })),
    );
    expect(new Set(clients.map((c) => c.pid)).size).to.equal(4);
    expect(new Set(clients.map((c) => c.sessionId)).size).to.equal(4);
  });

  it('caches service tools: one process for many calls, all pages followed', async function () {
    makeManager();
    const [a, b] = await Promise.all([
      manager.getServiceTools('fixture'),
      manager.getServiceTools('fixture'),
    ]);
    const c = await manager.getServiceTools('fixture');
    expect(a.length).to.be.greaterThan(4);
    expect(b).to.equal(a);
    expect(c).to.equal(a);
    expect(manager.stats().spawns).to.equal(1);
  });

  it('lists tools outside the session limits, one listing process at a time per service', async function () {
    const config = testConfig(
      { fixture: fixtureService() },
      { session: { max_sessions_per_service: 1, max_total_sessions: 1 } },
    );
    cleanup = config.cleanup;
    let mostListings = 0;
    manager = new MCPManager(config, {
      stopGraceMs: 300,
      onClient: () => {
        const listings = manager.processCount('fixture') - manager.sessionCount('fixture');
        mostListings = Math.max(mostListings, listings);
      },
    });
    const session = await manager.createClient('fixture', { initialize: true });
    expect(await reasonOf(manager.createClient('fixture'))).to.equal('session_limit');
    // reads during the first fill share it; list_changed meanwhile leaves it stored stale
    const a = manager.getServiceTools('fixture');
    manager.invalidateTools('fixture');
    const b = manager.getServiceTools('fixture');
    for (const tools of await Promise.all([a, b])) expect(tools.length).to.be.above(0);
    expect(manager.stats().spawns, 'the session and one listing').to.equal(2);
    // the stale list is answered at once; one refresh runs, outside the limits
    expect(await manager.getServiceTools('fixture')).to.equal(await a);
    expect(manager.stats().spawns, 'one refresh started').to.equal(3);
    await waitFor(() => manager.processCount('fixture') === 1, 10_000, 'the refresh to end');
    expect(mostListings, 'never two listings of a service at once').to.equal(1);
    expect(manager.sessionCount('fixture')).to.equal(1);
    expect(manager.processCount('fixture')).to.equal(1);
    expect(isAlive(session.pid!)).to.equal(true);
  });

  it('preloads tool lists in the background and serves a stale list while a refresh runs', async function () {
    const config = testConfig({
      slow: fixtureService(['--list-delay-ms=1500'], { preload_tools: true }),
      lazy: fixtureService(),
    });
    cleanup = config.cleanup;
    manager = new MCPManager(config, { stopGraceMs: 300 });
    manager.preloadTools();
    expect(manager.stats().spawns, 'only the service with preload_tools').to.equal(1);
    const first = await manager.getServiceTools('slow'); // joins the preload
    expect(manager.stats().spawns).to.equal(1);
    await waitFor(() => manager.processCount('slow') === 0, 10_000, 'the listing to end');
    manager.invalidateTools('slow');
    const started = Date.now();
    expect(await manager.getServiceTools('slow')).to.equal(first);
    expect(Date.now() - started, 'not waiting for the 1.5 s refresh').to.be.below(500);
    expect(manager.processCount('slow'), 'the refresh is still running').to.equal(1);
    let latest = first;
    await waitFor(
      () => {
        void manager.getServiceTools('slow').then((tools) => (latest = tools));
        return latest !== first;
      },
      10_000,
      'the refreshed list',
    );
    expect(manager.stats().spawns, 'one refresh').to.equal(2);
    await waitFor(() => manager.processCount('slow') === 0, 10_000, 'the refresh to end');
  });

  it("honours a server's ttlMs cache hint", async function () {
    const config = testConfig({ ttl: fixtureService(['--tools-ttl-ms=1000']) });
    cleanup = config.cleanup;
    manager = new MCPManager(config, { stopGraceMs: 300 });
    const first = await manager.getServiceTools('ttl');
    expect(await manager.getServiceTools('ttl')).to.equal(first);
    expect(manager.stats().spawns).to.equal(1);
    await waitFor(
      () => {
        void manager.getServiceTools('ttl'); // answered from cache; past the hint it refreshes
        return manager.stats().spawns === 2;
      },
      10_000,
      'a refresh once the hint expired',
    );
    await waitFor(() => manager.processCount('ttl') === 0, 10_000, 'the refresh to end');
  });

  describe('the replacement of a spare handed out', function () {
    const spawnsNow = () => manager.stats().spawns;
    async function withSpare() {
      const config = testConfig({ fixture: fixtureService([], { warm_spares: 1 }) });
      cleanup = config.cleanup;
      // A refill delay no test run reaches: only the spare's first answer starts the replacement.
      manager = new MCPManager(config, { stopGraceMs: 300, spareReplaceWaitMs: 600_000 });
      manager.startSpares();
      await waitFor(() => manager.spareCount('fixture') === 1, 10_000, 'the spare');
      return spawnsNow();
    }

    it('starts after the initialize the manager sends is answered, not before', async function () {
      const before = await withSpare();
      const client = await manager.createClient('fixture', { initialize: true });
      expect(client.initializeResult, 'answered on the spare').to.not.equal(undefined);
      expect(spawnsNow(), 'nothing spawned before the answer was handed on').to.equal(before);
      await waitFor(() => manager.spareCount('fixture') === 1, 10_000, 'the replacement');
      expect(spawnsNow()).to.equal(before + 1);
    });

    it("starts once an uninitialized spare answered its client's first message", async function () {
      const before = await withSpare();
      const client = await manager.createClient('fixture');
      await new Promise((resolve) => setImmediate(resolve));
      expect(spawnsNow(), 'no replacement while the spare has answered nothing').to.equal(before);
      const answered = new Promise((resolve) => client.once('response', resolve));
      client.sendRaw(
        JSON.stringify({
          jsonrpc: '2.0',
          id: 'c-1',
          method: 'initialize',
          params: {
            protocolVersion: '2025-06-18',
            capabilities: {},
            clientInfo: { name: 't', version: '1' },
          },
        }),
      );
      await answered;
      await waitFor(() => manager.spareCount('fixture') === 1, 10_000, 'the replacement');
      expect(spawnsNow()).to.equal(before + 1);
    });
  });

  it('validates every enabled service', async function () {
    makeManager();
    const results = await manager.validateServices();
    expect(Object.keys(results).sort()).to.deep.equal(['fixture', 'other']);
    expect(results.fixture!.ok).to.equal(true);
  });

  it('shutdown stops every client, is idempotent, and refuses new sessions', async function () {
    makeManager();
    const clients = await Promise.all([
      manager.createClient('fixture'),
      manager.createClient('other'),
    ]);
    const pids = clients.map((c) => c.pid!);
    await Promise.all([manager.shutdown(), manager.shutdown()]);
    expect(pids.map(isAlive)).to.deep.equal([false, false]);
    expect(await reasonOf(manager.createClient('fixture'))).to.equal('shutting_down');
  });
});
