// The bench's REST load against an in-process relay and real fixture servers: the lean HTTP
// caller reads the relay's answers (success and failure) on one keep-alive connection, and the
// closed-loop runner counts what it measured and fails loudly when a session cannot start.

import { expect } from 'chai';
import { HttpCaller } from '../../scripts/bench/http-caller.js';
import { runRestCalls, serverStartMs } from '../../scripts/bench/rest-load.js';
import { FIXTURE_SERVER, fixtureService } from '../helpers/config.js';
import { startRelay, type TestRelay } from '../helpers/relay.js';

describe('REST load (bench)', () => {
  let relay: TestRelay;

  // a relay per test: the root hook wants every server process gone after each one
  beforeEach(async () => {
    relay = await startRelay({ fixture: fixtureService() });
  });
  afterEach(async () => {
    await relay.close();
  });

  it('HttpCaller: repeated calls on one keep-alive connection, statuses and bodies as sent', async () => {
    const body = JSON.stringify({ session_id: 'caller-1', tool: 'echo', arguments: { text: 'é' } });
    const caller = await HttpCaller.open(`${relay.url}/services/fixture/call`, 'POST', body);
    try {
      for (let i = 0; i < 3; i++) {
        const a = await caller.call();
        expect(a.status).to.equal(200);
        expect(JSON.stringify(JSON.parse(a.body))).to.include('é');
      }
    } finally {
      caller.close();
    }
    const missing = await HttpCaller.open(`${relay.url}/services/nope/call`, 'POST', body);
    try {
      const a = await missing.call();
      expect(a.status).to.equal(404);
      expect(JSON.parse(a.body).reason).to.equal('unknown_service');
    } finally {
      missing.close();
    }
  });

  it('runRestCalls: every client on its own session, all calls answered', async () => {
    const r = await runRestCalls({
      baseUrl: relay.url,
      service: 'fixture',
      tool: 'echo',
      arguments: { text: 'load' },
      clients: 3,
      durationMs: 300,
      warmupMs: 0,
      sessionPrefix: 'load',
    });
    expect(r.errors).to.deep.equal({});
    expect(r.ok).to.be.greaterThan(0);
    expect(r.p99_ms).to.be.at.least(r.p50_ms);
    const sessions = relay.relay.registry.all().filter((s) => s.serviceName === 'fixture');
    expect(sessions.length).to.be.at.least(3);
  });

  it('runRestCalls: a session that cannot start fails the run with the relay answer', async () => {
    let failure: Error | undefined;
    try {
      await runRestCalls({
        baseUrl: relay.url,
        service: 'nope',
        tool: 'echo',
        arguments: {},
        clients: 2,
        durationMs: 60_000,
        warmupMs: 0,
        sessionPrefix: 'bad',
      });
    } catch (err) {
      failure = err as Error;
    }
    expect(failure?.message).to.match(/^REST first call: 404 .*unknown_service/);
  });

  it("serverStartMs: a stdio server's spawn-to-initialize time, the process gone afterwards", async () => {
    const ms = await serverStartMs([process.execPath, FIXTURE_SERVER], {
      PATH: process.env.PATH ?? '',
    });
    expect(ms).to.be.greaterThan(0);
  });
});
