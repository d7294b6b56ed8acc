// The load-test engine in-process against an in-process relay and real fixture servers: counts
// add up, nothing fails on a healthy service, and failures are reported by reason.

import { expect } from 'chai';
import { runLoad, type LoadSpec, type Target } from '../../src/loadtest/engine.js';
import { FIXTURE_SERVER, fixtureService } from '../helpers/config.js';
import { connectError, loadSpec as spec } from '../helpers/loadtest.js';
import { startRelay, type TestRelay } from '../helpers/relay.js';

describe('loadtest engine against a relay', () => {
  let relay: TestRelay;

  before(async () => {
    relay = await startRelay({ fixture: fixtureService() });
  });
  after(async () => {
    await relay.close();
  });

  const modes: [string, () => Target, Partial<LoadSpec>][] = [
    ['/mcp/{service}', () => ({ mode: 'mcp', url: relay.ws('/mcp/fixture') }), { connections: 2 }],
    [
      '/ws',
      () => ({ mode: 'ws', url: relay.ws('/ws'), service: 'fixture' }),
      { connections: 2, channels: 3 },
    ],
    [
      '/mcp/{service} with one write per message',
      () => ({ mode: 'mcp', url: relay.ws('/mcp/fixture') }),
      { writePerMessage: true, inFlight: 16 },
    ],
  ];
  for (const [name, target, shape] of modes) {
    it(`drives ${name}: exactly 200 measured requests, all answered, none failed`, async () => {
      const r = await runLoad(spec(target(), shape));
      expect(r.ok).to.equal(200);
      expect(r.errorCount).to.equal(0);
      expect(r.errors).to.deep.equal({});
      expect(r.unfinished).to.equal(0);
      expect(r.aborted).to.equal(false);
      expect(r.latencyMs.count).to.equal(200);
      expect(r.latencyMs.p50).to.be.greaterThan(0);
      expect(r.latencyMs.max).to.be.at.least(r.latencyMs.p99);
      expect(r.rps).to.be.greaterThan(0);
    });
  }

  it('counts upstream errors and tool errors by reason', async () => {
    const target: Target = { mode: 'mcp', url: relay.ws('/mcp/fixture') };
    const unknown = await runLoad(spec(target, { method: 'no/such', params: {}, requests: 20 }));
    expect(unknown.ok).to.equal(0);
    expect(unknown.errors).to.deep.equal({ 'upstream:-32601': 20 });
    const failing = { name: 'fail', arguments: {} };
    const tool = await runLoad(spec(target, { params: failing, requests: 20 }));
    expect(tool.errors).to.deep.equal({ tool_error: 20 });
  });

  it('stops at the duration with a warm-up that is not counted', async () => {
    const target: Target = { mode: 'mcp', url: relay.ws('/mcp/fixture') };
    const timed = spec(target, { durationMs: 200, warmupMs: 100 });
    delete timed.requests;
    const r = await runLoad(timed);
    expect(r.warmup.requests).to.be.greaterThan(0);
    expect(r.ok).to.be.greaterThan(0);
    expect(r.errorCount).to.equal(0);
    expect(r.elapsedMs).to.be.within(150, 5000);
  });

  it('refuses an unknown service on /mcp with the relay reason', async () => {
    const target: Target = { mode: 'mcp', url: relay.ws('/mcp/nope') };
    const err = await connectError(runLoad(spec(target)));
    expect(err.reason).to.equal('unknown_service');
    expect(err.message).to.match(/HTTP 404 unknown_service/);
  });

  it('refuses an unknown service on /ws with the relay reason', async () => {
    const target: Target = { mode: 'ws', url: relay.ws('/ws'), service: 'nope' };
    const err = await connectError(runLoad(spec(target)));
    expect(err.reason).to.equal('unknown_service');
    expect(err.message).to.match(/channel c0: unknown_service/);
  });

  it('reports a refused connection', async () => {
    const closed = relay.url.replace(/:\d+$/, ':1').replace(/^http/, 'ws');
    const err = await connectError(runLoad(spec({ mode: 'mcp', url: `${closed}/mcp/fixture` })));
    expect(err.reason).to.equal('connect_failed');
  });
});

describe('loadtest engine over stdio (no relay)', () => {
  it('drives a spawned server directly and stops it afterwards', async () => {
    const r = await runLoad(spec({ mode: 'stdio', command: [process.execPath, FIXTURE_SERVER] }));
    expect(r.ok).to.equal(200);
    expect(r.errorCount).to.equal(0);
  });

  it('reports a command that cannot be spawned', async () => {
    const err = await connectError(runLoad(spec({ mode: 'stdio', command: ['/no/such/binary'] })));
    expect(err.reason).to.equal('spawn_failed');
  });
});
