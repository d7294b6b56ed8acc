// SignalWire drop-in (issue 12): a stand-in for SignalWire's mcp_gateway skill (test/helpers/
// signalwire-skill.ts: list services, list tools per service, call with the call's id, reuse,
// hangup DELETE, retry on 5xx, never on 4xx) drives a relay loaded from a SignalWire-style config
// file through each case that broke the real skill: an idle session, a crashed server, disabled
// services, certs/server.pem, the gateway's rate limits, and tool listing at the session limit.
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { loadConfig } from '../../src/config/load.js';
import { Relay } from '../../src/relay.js';
import { ROOT } from '../helpers/config.js';
import { gatewayPem } from '../helpers/certs.js';
import { basic, captureLogs, connectWs } from '../helpers/http.js';
import { waitFor } from '../helpers/processes.js';
import { INIT_PARAMS } from '../helpers/relay.js';
import { SkillClient, type SkillParams } from '../helpers/signalwire-skill.js';

const CONFIG = join(ROOT, 'test/fixtures/config/signalwire-skill-config.json');
const CALL = { call_id: 'call-4f1c', timestamp: '2026-12-01T10:00:00Z' };

describe('SignalWire mcp_gateway skill against mcpmux', function () {
  this.timeout(30_000);
  let dir: string;
  let relay: Relay | undefined;
  let logs: ReturnType<typeof captureLogs>;

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'mcpmux-skill-'));
    logs = captureLogs();
  });

  afterEach(async function () {
    await relay?.close();
    relay = undefined;
    rmSync(dir, { recursive: true, force: true });
  });

  /** The relay as `mcpmux --config signalwire-skill-config.json` would run it, env on top. */
  async function start(
    env: Record<string, string> = {},
    file = CONFIG,
  ): Promise<{ url: string; notices: string[] }> {
    const { config, notices } = loadConfig({
      file,
      cwd: ROOT,
      env: {
        MCP_HOST: '127.0.0.1',
        MCP_PORT: '0',
        MCP_LOG_FILE: '',
        MCPMUX_SANDBOX_DIR: join(dir, 'sandbox'),
        ...env,
      },
    });
    relay = new Relay(config, { stopGraceMs: 300, logger: logs.logger });
    await relay.start();
    return { url: relay.url, notices };
  }

  function skill(url: string, params: Partial<SkillParams> = {}): SkillClient {
    return new SkillClient({
      gatewayUrl: `${url}/`,
      authUser: 'admin',
      authPassword: 'changeme',
      requestTimeoutMs: 10_000,
      ...params,
    });
  }

  const sessionsOf = (service: string) =>
    relay!.registry.all().filter((s) => s.serviceName === service);

  it('runs the whole skill flow: setup, tools of the enabled services only, calls, reuse, hangup', async function () {
    const { url } = await start();
    const agent = skill(url);
    expect(await agent.setup()).to.equal(true);
    const fns = await agent.registerTools();
    expect(fns).to.include.members([
      'mcp_todo_add_todo',
      'mcp_todo_list_todos',
      'mcp_fixture_echo',
    ]);
    // the disabled service is not listed, so the skill neither asks its tools nor advertises it
    expect(agent.sent('/services/example_shell')).to.deep.equal([]);
    expect(fns.some((f) => f.startsWith('mcp_example_shell'))).to.equal(false);
    const health = agent.sent('/health')[0]!;
    expect(Object.keys(health.body.services)).to.have.members(['todo', 'fixture']);
    expect(agent.tools.get('mcp_todo_add_todo')!.parameters.required).to.deep.equal(['text']);

    expect(await agent.callTool('mcp_todo_add_todo', { text: 'milk' }, CALL)).to.include('milk');
    expect(await agent.callTool('mcp_todo_list_todos', {}, CALL)).to.include('milk'); // reused
    // one call id on two services (the gateway answers 400 here)
    expect(await agent.callTool('mcp_fixture_echo', { text: 'hi' }, CALL)).to.equal('hi');
    expect(sessionsOf('todo')).to.have.length(1);
    const calls = agent.sent('/services/');
    expect(calls.every((e) => e.status === 200 && e.body.session_restarted === undefined)).to.equal(
      true,
    );

    expect(await agent.hangup(CALL)).to.equal('Session cleanup complete');
    expect(agent.exchanges.at(-1)!.status).to.equal(200);
    await waitFor(() => relay!.registry.size === 0, 10_000, 'the hangup to stop both sessions');
    // a second hangup is a 404, which the skill takes as done
    expect(await agent.hangup(CALL)).to.equal('Session cleanup complete');
    expect(agent.exchanges.at(-1)!.status).to.equal(404);
    // after a hangup the id starts afresh, with nothing to report
    expect(await agent.callTool('mcp_todo_list_todos', {}, CALL)).to.equal('No todos.');
    expect(agent.exchanges.at(-1)!.body.session_restarted).to.equal(undefined);
  });

  it('serves a call after an idle timeout on a fresh session in one request, and says so', async function () {
    const { url } = await start();
    const agent = skill(url, { sessionTimeout: 0.3 });
    await agent.registerTools();
    await agent.callTool('mcp_todo_add_todo', { text: 'bread' }, CALL);
    await waitFor(() => sessionsOf('todo').length === 0, 10_000, 'the idle session to stop');

    const before = agent.exchanges.length;
    expect(await agent.callTool('mcp_todo_list_todos', {}, CALL)).to.equal('No todos.');
    const sent = agent.exchanges.slice(before);
    expect(sent, 'one request, no retry').to.have.length(1);
    expect(sent[0]!.status).to.equal(200);
    expect(sent[0]!.body).to.include({
      session_restarted: true,
      previous_end_reason: 'idle_timeout',
    });
    expect(sent[0]!.body.previous_ended_at).to.match(/^\d{4}-\d\d-\d\dT/);
    // told once: the next call is on the new session
    await agent.callTool('mcp_todo_list_todos', {}, CALL);
    expect(agent.exchanges.at(-1)!.body.session_restarted).to.equal(undefined);
  });

  it('with rest.ended_sessions "report", the idle session is a 410 the skill does not retry', async function () {
    const { url } = await start({ MCPMUX_REST_ENDED_SESSIONS: 'report' });
    const agent = skill(url, { sessionTimeout: 0.3 });
    await agent.registerTools();
    await agent.callTool('mcp_todo_add_todo', { text: 'bread' }, CALL);
    await waitFor(() => sessionsOf('todo').length === 0, 10_000, 'the idle session to stop');
    const before = agent.exchanges.length;
    const text = await agent.callTool('mcp_todo_list_todos', {}, CALL);
    expect(text).to.match(/^Failed to call todo\.list_todos: HTTP 410/);
    expect(agent.exchanges.length - before, 'a 4xx is not retried').to.equal(1);
  });

  it('serves a call after a crash between calls on a fresh session in one request, and says so', async function () {
    const { url } = await start();
    const agent = skill(url);
    await agent.registerTools();
    expect(await agent.callTool('mcp_fixture_echo', { text: 'a' }, CALL)).to.equal('a');
    const [session] = sessionsOf('fixture');
    process.kill(session!.client.pid!, 'SIGKILL');
    await waitFor(() => sessionsOf('fixture').length === 0, 10_000, 'the crash to be seen');

    const before = agent.exchanges.length;
    expect(await agent.callTool('mcp_fixture_echo', { text: 'b' }, CALL)).to.equal('b');
    const sent = agent.exchanges.slice(before);
    expect(sent).to.have.length(1);
    expect(sent[0]!.body).to.include({
      session_restarted: true,
      previous_end_reason: 'upstream_exited',
    });
  });

  it('a crash during a call is a 502 (never re-run silently); the skill retries it on a fresh session', async function () {
    const { url } = await start();
    const agent = skill(url);
    await agent.registerTools();
    await agent.callTool('mcp_fixture_echo', { text: 'warm' }, CALL);
    const [session] = sessionsOf('fixture');
    const pending = agent.callTool('mcp_fixture_slow', { ms: 1500, text: 'late' }, CALL);
    await waitFor(() => session!.inflightCount > 0, 10_000, 'the slow call to reach the server');
    process.kill(session!.client.pid!, 'SIGKILL');
    expect(await pending).to.equal('late');
    const [crashed, retried] = agent.sent('/services/fixture/call').slice(-2);
    expect(crashed!.status).to.equal(502);
    expect(crashed!.body.reason).to.equal('upstream_exited');
    expect(retried!.status).to.equal(200);
    expect(retried!.body).to.include({
      session_restarted: true,
      previous_end_reason: 'upstream_exited',
    });

    // a tool that always crashes: retryAttempts attempts, each one told of the previous end
    const before = agent.exchanges.length;
    const text = await agent.callTool('mcp_fixture_crash', {}, CALL);
    expect(text).to.match(/^Failed to call fixture\.crash: HTTP 502/);
    const attempts = agent.exchanges.slice(before);
    expect(attempts.map((e) => e.status)).to.deep.equal([502, 502, 502]);
    expect(attempts.slice(1).every((e) => e.body.session_restarted === true)).to.equal(true);
  });

  it('does not retry a 4xx (an unknown tool)', async function () {
    const { url } = await start();
    const agent = skill(url);
    await agent.registerTools();
    agent.tools.set('mcp_fixture_nope', { ...agent.tools.get('mcp_fixture_echo')!, tool: 'nope' });
    const before = agent.exchanges.length;
    const text = await agent.callTool('mcp_fixture_nope', {}, CALL);
    expect(text).to.match(/^Failed to call fixture\.nope: HTTP 400/);
    expect(agent.exchanges.length - before).to.equal(1);
  });

  it('lists tools when the service is at its session limit, one listing process at a time', async function () {
    const { url } = await start({ MCP_MAX_SESSIONS: '1' });
    const first = skill(url);
    first.tools.set('mcp_fixture_echo', {
      name: 'mcp_fixture_echo',
      service: 'fixture',
      tool: 'echo',
      description: '',
      parameters: { type: 'object', properties: {}, required: [] },
    });
    expect(await first.callTool('mcp_fixture_echo', { text: 'x' }, CALL)).to.equal('x');
    expect(relay!.manager.sessionCount('fixture')).to.equal(1); // at the limit

    const spawns = relay!.manager.stats().spawns;
    const agents = [skill(url), skill(url), skill(url)];
    const registered = await Promise.all(
      agents.map((a) => a.registerTools().then(() => [...a.tools.keys()])),
    );
    for (const fns of registered) expect(fns).to.include('mcp_fixture_echo');
    const toolsAnswers = agents.flatMap((a) => a.sent('/services/fixture/tools'));
    expect(toolsAnswers.map((e) => e.status)).to.deep.equal([200, 200, 200]);
    // preload_tools (default true) listed the service at relay start: no listing process now
    expect(relay!.manager.stats().spawns - spawns, 'answered from the preloaded list').to.equal(0);
    expect(relay!.manager.sessionCount('fixture')).to.equal(1);
    // a new session is still refused at the limit: 503, which the skill retries and gives up on
    const other = await agents[0]!.callTool('mcp_fixture_echo', { text: 'y' }, { call_id: 'c2' });
    expect(other).to.match(/^Failed to call fixture\.echo: HTTP 503/);
  });

  it("applies the gateway's rate_limiting keys per client and route: 429 with Retry-After, not retried", async function () {
    const { url } = await start({
      MCPMUX_RATE_CALL_LIMIT: '2 per minute',
      MCPMUX_RATE_DEFAULT_LIMITS: '3 per hour',
    });
    const agent = skill(url);
    await agent.registerTools();
    expect(await agent.callTool('mcp_fixture_echo', { text: '1' }, CALL)).to.equal('1');
    expect(await agent.callTool('mcp_fixture_echo', { text: '2' }, CALL)).to.equal('2');
    const before = agent.exchanges.length;
    const text = await agent.callTool('mcp_fixture_echo', { text: '3' }, CALL);
    expect(text).to.match(/^Failed to call fixture\.echo: HTTP 429/);
    const [limited] = agent.exchanges.slice(before);
    expect(agent.exchanges.length - before, 'a 429 is not retried').to.equal(1);
    expect(limited!.body).to.include({ reason: 'rate_limited', limit: '2 per 1 minute' });
    expect(limited!.body.retry_after_ms).to.be.within(1, 60_000);
    expect(Number(limited!.headers['retry-after'])).to.be.within(1, 60);

    // another client address has its own windows (flask-limiter's get_remote_address)
    const neighbour = skill(url, { localAddress: '127.0.0.2' });
    neighbour.tools.set('mcp_fixture_echo', agent.tools.get('mcp_fixture_echo')!);
    expect(await neighbour.callTool('mcp_fixture_echo', { text: 'n' }, CALL)).to.equal('n');

    // default_limits: three per hour on /health (setup() asks it), then 429; /services has its own
    for (let i = 0; i < 3; i++) expect(await agent.setup()).to.equal(true);
    expect(await agent.setup()).to.equal(false);
    expect(agent.exchanges.at(-1)!.status).to.equal(429);
    expect((await agent.registerTools()).length, 'GET /services has its own window').to.be.above(0);
  });

  it('never re-creates a WebSocket session: an idle /mcp channel is closed with 4003', async function () {
    const { url } = await start({ MCP_SESSION_TIMEOUT: '0.3' });
    const c = await connectWs(`${url.replace(/^http/, 'ws')}/mcp/fixture`, 'mcp', {
      headers: basic('admin', 'changeme'),
    });
    c.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: INIT_PARAMS });
    expect((await c.next()).result.serverInfo.name).to.equal('fixture');
    const spawns = relay!.manager.stats().spawns;
    expect((await c.expectClose(10_000)).code).to.equal(4003);
    await waitFor(() => relay!.registry.size === 0, 10_000, 'the idle session to go');
    expect(relay!.manager.stats().spawns).to.equal(spawns);
  });

  it('serves HTTPS with certs/server.pem beside the config file and says so at start', async function () {
    const made = gatewayPem(dir);
    if (made === undefined) this.skip(); // no openssl here: nothing to make a certificate with
    const { pem, cert } = made;
    const file = join(dir, 'config.json');
    copyFileSync(CONFIG, file);

    const { url, notices } = await start({}, file);
    expect(url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
    expect(notices.join('\n')).to.include(pem).and.include('HTTPS');
    const listening = logs.lines().find((l) => l.msg === 'listening');
    expect(listening.url).to.match(/^https:/);
    expect(listening.tls).to.equal(pem);

    const agent = skill(url, { ca: cert });
    expect(await agent.setup()).to.equal(true);
    await agent.registerTools();
    expect(await agent.callTool('mcp_fixture_echo', { text: 'tls' }, CALL)).to.equal('tls');
    // verify_ssl true without the CA: the connection fails (and the skill's setup with it)
    expect(await skill(url).setup()).to.equal(false);
  });
});
