// What a client sees when the relay shuts down (SPEC §9, issue 16): past shutdown_grace every
// request still in flight gets a JSON-RPC error `shutting_down` — and on /ws each channel a `closed`
// envelope — before the socket closes with 1001; a REST call in flight gets 503 `shutting_down`.
// Also the start-up sweep of session directories an earlier run left in sandbox_dir.
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { fixtureService } from '../helpers/config.js';
import { http } from '../helpers/http.js';
import { isAlive, serverPidByCwd, waitFor } from '../helpers/processes.js';
import { INIT_PARAMS, startRelay, WsCursor, type TestRelay } from '../helpers/relay.js';
import { resultText, toolCall } from '../helpers/jsonrpc.js';
import { OWNER_FILE } from '../../src/sandbox/stale-dirs.js';

const GRACE = { shutdown_grace: 0.2 };
const NEVER = { ms: 600_000 }; // the fixture's slow tool: far beyond any deadline here

describe('shutdown as clients see it', function () {
  let relay: TestRelay | undefined;
  const sockets: WsCursor[] = [];

  afterEach(async function () {
    for (const s of sockets.splice(0)) s.ws.terminate();
    await relay?.close();
    relay = undefined;
  });

  async function start(): Promise<TestRelay> {
    relay = await startRelay({ fixture: fixtureService() }, { server: GRACE });
    return relay;
  }

  /** Resolves once the relay holds `n` requests in flight (they reached it, none answered). */
  async function inFlight(n: number): Promise<void> {
    const count = () => relay!.relay.registry.all().reduce((sum, s) => sum + s.inflightCount, 0);
    await waitFor(() => count() === n, 5000, `${n} requests in flight`);
  }

  it('/mcp/{service}: each request in flight gets shutting_down, then the socket closes 1001', async function () {
    const r = await start();
    const c = await WsCursor.connect(r.ws('/mcp/fixture'));
    sockets.push(c);
    c.send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: INIT_PARAMS });
    expect((await c.next()).id).to.equal(0);
    c.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    c.send(toolCall(1, 'cwd')); // its session dir: the pid is 2 in its own PID namespace
    const pid = serverPidByCwd(resultText(await c.next()));
    c.send(toolCall(2, 'slow', NEVER));
    c.send(toolCall('three', 'slow', NEVER));
    await inFlight(2);

    const closing = r.relay.close();
    const answers = [await c.next(10_000), await c.next()];
    for (const answer of answers) {
      expect(answer.error.data.reason, JSON.stringify(answer)).to.equal('shutting_down');
      expect(answer.error.code).to.equal(-32000);
    }
    expect(answers.map((a) => a.id)).to.have.members([2, 'three']);
    const closed = await c.expectClose();
    expect(closed.code).to.equal(1001);
    expect(closed.reason).to.match(/^shutting_down/);
    await closing;
    expect(isAlive(pid)).to.equal(false);
  });

  it('/ws: the error responses and a closed envelope per channel, then 1001', async function () {
    const r = await start();
    const c = await WsCursor.connect(r.ws('/ws'), 'mcpmux.v1');
    sockets.push(c);
    for (const channel of ['a', 'b']) {
      c.send({ type: 'open', channel, service: 'fixture' });
      expect(await c.next()).to.include({ type: 'opened', channel });
      const message = { jsonrpc: '2.0', id: 0, method: 'initialize', params: INIT_PARAMS };
      c.send({ type: 'message', channel, message });
      expect((await c.next()).message.id).to.equal(0);
      c.send({ type: 'message', channel, message: toolCall(7, 'slow', NEVER) });
    }
    await inFlight(2);
    const idle = { type: 'open', channel: 'idle', service: 'fixture' };
    c.send(idle); // a channel with nothing in flight still hears why it ended
    expect(await c.next()).to.include({ type: 'opened', channel: 'idle' });

    void r.relay.close();
    const frames: any[] = [];
    for (let i = 0; i < 5; i++) frames.push(await c.next(10_000));
    for (const channel of ['a', 'b']) {
      const mine = frames.filter((f) => f.channel === channel);
      expect(mine, JSON.stringify(frames)).to.have.length(2);
      // the error response first, then the channel's closed envelope
      expect(mine[0].type).to.equal('message');
      expect(mine[0].message.id).to.equal(7);
      expect(mine[0].message.error.data.reason).to.equal('shutting_down');
      expect(mine[1]).to.include({ type: 'closed', channel, reason: 'shutting_down' });
    }
    expect(frames.find((f) => f.channel === 'idle')).to.include({
      type: 'closed',
      reason: 'shutting_down',
    });
    const closed = await c.expectClose();
    expect(closed.code).to.equal(1001);
  });

  it('during the grace: no new session (shutting_down), and the drain ends when the last request does', async function () {
    relay = await startRelay({ fixture: fixtureService() }, { server: { shutdown_grace: 600 } });
    const r = relay;
    const c = await WsCursor.connect(r.ws('/ws'), 'mcpmux.v1');
    sockets.push(c);
    c.send({ type: 'open', channel: 'a', service: 'fixture' });
    expect(await c.next()).to.include({ type: 'opened', channel: 'a' });
    const message = { jsonrpc: '2.0', id: 0, method: 'initialize', params: INIT_PARAMS };
    c.send({ type: 'message', channel: 'a', message });
    expect((await c.next()).message.id).to.equal(0);
    c.send({ type: 'message', channel: 'a', message: toolCall(1, 'slow', { ms: 600_000 }) });
    await inFlight(1);

    let closed = false;
    const closing = r.relay.close().then(() => (closed = true));
    await waitFor(() => r.relay.state === 'draining', 5000, 'the relay to drain');
    c.send({ type: 'open', channel: 'late', service: 'fixture' });
    expect(await c.next()).to.include({ type: 'error', channel: 'late', reason: 'shutting_down' });
    expect(closed).to.equal(false); // the grace (600 s) still runs for request 1

    // the last request in flight ends: the relay goes on at once, not at the end of the grace
    const cancel = { jsonrpc: '2.0', method: 'notifications/cancelled', params: { requestId: 1 } };
    c.send({ type: 'message', channel: 'a', message: cancel });
    expect(await c.next(10_000)).to.include({
      type: 'closed',
      channel: 'a',
      reason: 'shutting_down',
    });
    expect((await c.expectClose()).code).to.equal(1001);
    await closing;
  });

  it('REST: a call in flight is answered 503 shutting_down', async function () {
    const r = await start();
    const post = http(`${r.url}/services/fixture/call`, {
      method: 'POST',
      body: { tool: 'slow', arguments: NEVER, session_id: 'shut' },
      timeoutMs: 10_000,
    });
    await inFlight(1);
    void r.relay.close();
    const answer = await post;
    expect(answer.status, answer.text).to.equal(503);
    expect(answer.body.reason).to.equal('shutting_down');
  });
});

describe('start-up sweep of sandbox_dir', function () {
  let relay: TestRelay | undefined;
  let dir: string;

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'mcpmux-sweep-'));
  });

  afterEach(async function () {
    await relay?.close();
    relay = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  const STALE = [
    'fixture-0b6f2a4e-5c1d-4e8f-9a7b-3c2d1e0f9a8b',
    'gone-service-1c2d3e4f-5a6b-4c7d-8e9f-0a1b2c3d4e5f',
  ];

  function layOut(sandbox: string): { outside: string } {
    const outside = join(dir, 'outside');
    mkdirSync(join(outside, 'keep'), { recursive: true });
    for (const name of STALE) {
      mkdirSync(join(sandbox, name, 'tmp'), { recursive: true });
      writeFileSync(join(sandbox, name, 'tmp', 'left-over'), 'x');
      // a symlink inside a stale dir is removed, never followed
      symlinkSync(outside, join(sandbox, name, 'link-out'));
    }
    writeFileSync(join(sandbox, 'notes.txt'), 'not a session dir');
    mkdirSync(join(sandbox, 'fixture-not-a-uuid'));
    // named like a session dir, but a symlink: left alone, and what it points to too
    symlinkSync(outside, join(sandbox, 'fixture-2b6f2a4e-5c1d-4e8f-9a7b-3c2d1e0f9a8c'));
    return { outside };
  }

  it('removes session dirs an earlier run left, and nothing else', async function () {
    const sandbox = join(dir, 'sandbox');
    const { outside } = layOut(sandbox);
    relay = await startRelay({ fixture: fixtureService() }, { session: { sandbox_dir: sandbox } });
    await waitFor(
      () => STALE.every((name) => !existsSync(join(sandbox, name))),
      5000,
      'the stale session dirs to be removed',
    );
    expect(existsSync(join(sandbox, 'notes.txt'))).to.equal(true);
    expect(existsSync(join(sandbox, 'fixture-not-a-uuid'))).to.equal(true);
    expect(existsSync(join(sandbox, 'fixture-2b6f2a4e-5c1d-4e8f-9a7b-3c2d1e0f9a8c'))).to.equal(
      true,
    );
    expect(existsSync(join(outside, 'keep'))).to.equal(true);
    expect(existsSync(join(sandbox, OWNER_FILE))).to.equal(true);
    await relay.close();
    relay = undefined;
    expect(existsSync(join(sandbox, OWNER_FILE))).to.equal(false);
  });

  it('sweeps nothing while another live relay owns the sandbox_dir', async function () {
    const sandbox = join(dir, 'sandbox');
    layOut(sandbox);
    // another relay: a live node process whose pid is in the owner file
    const other = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], {
      stdio: 'ignore',
    });
    try {
      writeFileSync(join(sandbox, OWNER_FILE), `${other.pid} 0b6f2a4e-claim\n`);
      relay = await startRelay(
        { fixture: fixtureService() },
        { session: { sandbox_dir: sandbox } },
      );
      // the claim is checked before start() resolves: no removal was scheduled
      expect(STALE.every((name) => existsSync(join(sandbox, name)))).to.equal(true);
      await relay.close();
      relay = undefined;
      const owner = readFileSync(join(sandbox, OWNER_FILE), 'utf8');
      expect(owner).to.equal(`${other.pid} 0b6f2a4e-claim\n`);
    } finally {
      other.kill('SIGKILL');
      await once(other, 'exit');
    }
  });

  it('sweeps when the owner file names a relay that is gone (a crash)', async function () {
    const sandbox = join(dir, 'sandbox');
    layOut(sandbox);
    const gone = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
    await once(gone, 'exit');
    writeFileSync(join(sandbox, OWNER_FILE), `${gone.pid} 0b6f2a4e-claim\n`);
    relay = await startRelay({ fixture: fixtureService() }, { session: { sandbox_dir: sandbox } });
    await waitFor(
      () => STALE.every((name) => !existsSync(join(sandbox, name))),
      5000,
      'the stale session dirs to be removed',
    );
    expect(readFileSync(join(sandbox, OWNER_FILE), 'utf8')).to.match(
      new RegExp(`^${process.pid} `),
    );
  });
});
