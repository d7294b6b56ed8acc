// The REST API (SPEC §7): SignalWire's curl flow against the todo example with the exact JSON
// shapes, one session_id across services, tool errors as 200, the status codes (400/404/405/413/
// 429/502), single-flight session creation, a session that ended being reported once instead of
// silently replaced, the tool cache, and WebSocket sessions seen and closed through /sessions.
import { expect } from 'chai';
import { fixtureService, serviceConfig, TODO_SERVER } from '../helpers/config.js';
import { bearer, connectWs, http, type HttpAnswer } from '../helpers/http.js';
import { isAlive, waitFor } from '../helpers/processes.js';
import { INIT_PARAMS, startRelay, type TestRelay, type WsCursor } from '../helpers/relay.js';
import type { TestConfigOptions } from '../helpers/config.js';
import type { ServiceConfig } from '../../src/config/types.js';

const TOKEN = 'rest-token-0b7d';
const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/;

describe('REST API', function () {
  let relay: TestRelay | undefined;
  const sockets: WsCursor[] = [];

  async function start(
    services: Record<string, ServiceConfig> = {
      todo: serviceConfig(['node', TODO_SERVER], { description: 'A small stateful to-do list' }),
      fixture: fixtureService([], { description: 'the fixture' }),
    },
    options: TestConfigOptions = {},
  ): Promise<TestRelay> {
    relay = await startRelay(services, {
      ...options,
      server: { auth_token: TOKEN, ...options.server },
    });
    return relay;
  }

  const get = (path: string) => http(relay!.url + path, { headers: bearer(TOKEN) });
  const del = (path: string) =>
    http(relay!.url + path, { method: 'DELETE', headers: bearer(TOKEN) });
  const post = (path: string, body: unknown) =>
    http(relay!.url + path, { method: 'POST', headers: bearer(TOKEN), body });
  const call = (service: string, body: Record<string, unknown>) =>
    post(`/services/${service}/call`, body);

  function expectError(answer: HttpAnswer, status: number, reason: string): void {
    expect(answer.status, answer.text).to.equal(status);
    expect(answer.body.reason, answer.text).to.equal(reason);
    expect(answer.body.error).to.be.a('string').that.is.not.empty;
    expect(answer.headers['content-type']).to.match(/^application\/json/);
  }

  afterEach(async function () {
    for (const s of sockets.splice(0)) s.ws.terminate();
    await relay?.close();
    relay = undefined;
  });

  it('serves the SignalWire curl flow on the todo example with its JSON shapes', async function () {
    await start();
    const health = await http(`${relay!.url}/health`); // no auth
    expect(health.status).to.equal(200);
    expect(health.body).to.have.all.keys('status', 'timestamp', 'version', 'services', 'sessions');
    expect(health.body).to.include({ status: 'healthy', version: '0.1.0', sessions: 0 });
    expect(health.body.timestamp).to.match(ISO);

    const services = await get('/services');
    expect(services.status).to.equal(200);
    expect(services.body).to.deep.equal({
      todo: {
        description: 'A small stateful to-do list',
        enabled: true,
        state: 'idle',
        sessions: 0,
      },
      fixture: { description: 'the fixture', enabled: true, state: 'idle', sessions: 0 },
    });
    expect(services.text).not.to.include('todo.mjs'); // never the command line
    expect(services.text).not.to.include('command');

    const tools = await get('/services/todo/tools');
    expect(tools.status).to.equal(200);
    expect(tools.body.service).to.equal('todo');
    expect(tools.body.tools.map((t: any) => t.name)).to.deep.equal([
      'add_todo',
      'list_todos',
      'complete_todo',
      'delete_todo',
      'clear_todos',
    ]);
    expect(tools.body.tools[0].inputSchema.required).to.deep.equal(['text']);

    const sid = 'call-4b1e';
    const metadata = { agent_id: 'agent', call_id: sid };
    const added = await call('todo', {
      tool: 'add_todo',
      arguments: { text: 'Buy milk', priority: 'high' },
      session_id: sid,
      timeout: 120,
      metadata,
    });
    expect(added.status).to.equal(200);
    expect(added.body).to.deep.equal({
      session_id: sid,
      service: 'todo',
      tool: 'add_todo',
      result: 'Added todo #1: Buy milk (priority: high)',
      content: [{ type: 'text', text: 'Added todo #1: Buy milk (priority: high)' }],
      isError: false,
      structuredContent: { todo: { id: 1, text: 'Buy milk', priority: 'high', completed: false } },
    });
    expect(
      (await call('todo', { tool: 'add_todo', arguments: { text: 'Walk dog' }, session_id: sid }))
        .body.result,
    ).to.equal('Added todo #2: Walk dog (priority: medium)');
    const listed = await call('todo', { tool: 'list_todos', arguments: {}, session_id: sid });
    expect(listed.body.result).to.equal('1. [ ] Buy milk (high)\n2. [ ] Walk dog (medium)');
    const completed = await call('todo', {
      tool: 'complete_todo',
      arguments: { id: 1 },
      session_id: sid,
    });
    expect(completed.body).to.deep.include({
      result: 'Completed todo #1: Buy milk',
      isError: false,
    });
    const pending = await call('todo', {
      tool: 'list_todos',
      arguments: { status: 'pending' },
      session_id: sid,
    });
    expect(pending.body.result).to.equal('2. [ ] Walk dog (medium)');
    expect(relay!.relay.registry.size, 'one process for the whole flow').to.equal(1);
    expect((await get('/services')).body.todo).to.include({ state: 'active', sessions: 1 });

    const sessions = await get('/sessions');
    expect(sessions.status).to.equal(200);
    expect(Object.keys(sessions.body)).to.deep.equal([sid]);
    const entry = sessions.body[sid];
    expect(entry).to.include({ service_name: 'todo', timeout: 120, transport: 'rest' });
    expect(entry.metadata).to.deep.equal(metadata);
    expect(entry.created_at).to.match(ISO);
    expect(entry.last_accessed).to.match(ISO);
    expect(Date.parse(entry.last_accessed)).to.be.at.least(Date.parse(entry.created_at));
    expect(entry.time_remaining).to.be.a('number').within(100, 120);
    expect(Object.keys(entry.services)).to.deep.equal(['todo']);

    const deleted = await del(`/sessions/${sid}`);
    expect(deleted.status).to.equal(200);
    expect(deleted.body).to.deep.equal({ message: `Session ${sid} closed` });
    expect((await get('/sessions')).body).to.deep.equal({});
    await waitFor(() => relay!.relay.registry.size === 0, 10_000, 'the todo process to stop');
    expectError(await del(`/sessions/${sid}`), 404, 'unknown_session');
    // a new call with the same id after a DELETE starts afresh
    const fresh = await call('todo', { tool: 'list_todos', session_id: sid });
    expect(fresh.body.result).to.equal('No todos.');
  });

  it('DELETE answers at once and pauses no other session while a stubborn server stops', async function () {
    relay = await startRelay(
      {
        stubborn: fixtureService(['--ignore-eof', '--trap-sigterm']),
        fixture: fixtureService(),
      },
      { server: { auth_token: TOKEN }, stopGraceMs: 2000 },
    );
    const echo = (service: string, session_id: string) =>
      call(service, { tool: 'echo', arguments: { text: session_id }, session_id });
    expect((await echo('stubborn', 'slow-stop')).status).to.equal(200);
    expect((await echo('fixture', 'other')).status).to.equal(200);
    const stubborn = relay.relay.registry.all().find((s) => s.serviceName === 'stubborn')!;
    const pid = stubborn.client.pid!;
    let exited = false;
    stubborn.client.once('exit', () => (exited = true));

    expect((await del('/sessions/slow-stop')).status).to.equal(200);
    // stdin EOF and SIGTERM are ignored: the process lives through two 2 s graces, and the
    // other session answers in the meantime
    const other = await echo('fixture', 'other');
    expect(other.status).to.equal(200);
    expect(other.body.result).to.equal('other');
    expect(exited, 'the stubborn server had already exited').to.equal(false);
    expect(isAlive(pid)).to.equal(true);
    process.kill(-pid, 'SIGKILL'); // no need to sit out the graces
    await waitFor(() => exited, 10_000, 'the stubborn server to exit');
  });

  it('keys sessions by id and service: one session_id uses two services, DELETE closes both', async function () {
    await start();
    const sid = 'shared-id';
    expect(
      (await call('todo', { tool: 'add_todo', arguments: { text: 'x' }, session_id: sid })).status,
    ).to.equal(200);
    const echoed = await call('fixture', {
      tool: 'echo',
      arguments: { text: 'hello' },
      session_id: sid,
    });
    expect(echoed.status).to.equal(200);
    expect(echoed.body).to.include({ service: 'fixture', result: 'hello' });
    // the todo session kept its state
    expect((await call('todo', { tool: 'list_todos', session_id: sid })).body.result).to.equal(
      '1. [ ] x (medium)',
    );
    expect(relay!.relay.registry.size).to.equal(2);

    const sessions = (await get('/sessions')).body;
    expect(Object.keys(sessions)).to.deep.equal([sid]);
    expect(sessions[sid].service_name).to.equal('todo');
    expect(Object.keys(sessions[sid].services)).to.deep.equal(['todo', 'fixture']);
    expect(sessions[sid].services.fixture.session).to.not.equal(
      sessions[sid].services.todo.session,
    );

    expect((await del(`/sessions/${sid}`)).status).to.equal(200);
    await waitFor(() => relay!.relay.registry.size === 0, 10_000, 'both processes to stop');
  });

  it('reports an MCP tool error as 200 with isError: true, and keeps structuredContent', async function () {
    await start();
    const failed = await call('fixture', { tool: 'fail', session_id: 's' });
    expect(failed.status).to.equal(200);
    expect(failed.body).to.deep.equal({
      session_id: 's',
      service: 'fixture',
      tool: 'fail',
      result: 'boom',
      content: [{ type: 'text', text: 'boom' }],
      isError: true,
    });
    const structured = await call('fixture', { tool: 'structured', session_id: 's' });
    expect(structured.body).to.deep.include({ result: '{"a":1}', structuredContent: { a: 1 } });
    const todoError = await call('todo', {
      tool: 'complete_todo',
      arguments: { id: 9 },
      session_id: 's',
    });
    expect(todoError.status).to.equal(200);
    expect(todoError.body).to.include({ isError: true, result: 'Todo #9 not found' });
  });

  it('ends a call at request_timeout with 504, cancels it on the server and keeps the session', async function () {
    // request_timeout also bounds the session's start (spawn + initialize): room for a loaded
    // machine and the namespace sandbox's set-up
    await start({ fixture: fixtureService([], { request_timeout: 1, concurrency: 1 }) });
    const late = await call('fixture', {
      tool: 'slow',
      arguments: { ms: 60_000 },
      session_id: 's',
    });
    expectError(late, 504, 'request_timeout');
    expect(late.body.error).to.equal('tools/call timed out after 1000 ms');
    // the server was told, and the session (and the service's one slot) still serve
    const cancelled = await call('fixture', { tool: 'cancelled-ids', session_id: 's' });
    expect(cancelled.status, cancelled.text).to.equal(200);
    expect(JSON.parse(cancelled.body.result as string)).to.have.length(1);
  });

  it('queues a call while the service has no free slot, then answers it', async function () {
    await start({ fixture: fixtureService([], { concurrency: 1 }) });
    /** A per-service gauge of /metrics, awaited until it reads `value`. */
    const gaugeReaches = async (name: string, value: number) => {
      const deadline = Date.now() + 5000;
      const line = new RegExp(`^${name}\\{service="fixture"\\} (\\d+)$`, 'm');
      for (;;) {
        const text = (await get('/metrics')).text;
        if (Number(line.exec(text)?.[1]) === value) return;
        if (Date.now() > deadline) throw new Error(`${name} did not reach ${value}:\n${text}`);
      }
    };
    const slow = call('fixture', { tool: 'slow', arguments: { ms: 60_000 }, session_id: 'a' });
    await gaugeReaches('mcpmux_requests_in_flight', 1); // the one slot is taken
    const quick = call('fixture', { tool: 'echo', arguments: { text: 'hi' }, session_id: 'b' });
    await gaugeReaches('mcpmux_queue_depth', 1); // echo waits for it
    expect((await del('/sessions/a')).status).to.equal(200); // frees the slot
    const q = await quick;
    expect(q.status, q.text).to.equal(200);
    expect(q.body.result).to.equal('hi');
    const s = await slow;
    expect(s.body.reason, s.text).to.equal('session_closed');
  });

  it('answers bad input with 400, unknown things with 404, wrong methods with 405', async function () {
    await start({
      todo: serviceConfig(['node', TODO_SERVER]),
      off: fixtureService([], { enabled: false }),
    });
    const raw = (body: string) =>
      http(`${relay!.url}/services/todo/call`, { method: 'POST', headers: bearer(TOKEN), body });
    expectError(await raw('{not json'), 400, 'parse_error');
    expectError(await raw(''), 400, 'parse_error');
    expectError(await raw('[1]'), 400, 'bad_input');
    const base = { tool: 'list_todos', session_id: 'ok' };
    const bad: Record<string, unknown>[] = [
      {},
      { session_id: 'x' },
      { tool: 'list_todos' },
      { ...base, tool: '' },
      { ...base, tool: 7 },
      { ...base, session_id: 'has space' },
      { ...base, session_id: 'x'.repeat(129) },
      { ...base, session_id: 42 },
      { ...base, arguments: [] },
      { ...base, arguments: 'x' },
      { ...base, metadata: 'x' },
      { ...base, metadata: { blob: 'm'.repeat(16 * 1024) } }, // over 16 KiB of JSON
      { ...base, timeout: 0 },
      { ...base, timeout: -1 },
      { ...base, timeout: 3601 },
      { ...base, timeout: true },
      { ...base, timeout: '10' },
    ];
    for (const body of bad) expectError(await call('todo', body), 400, 'bad_input');
    expect((await call('todo', { ...base, timeout: 3600 })).status).to.equal(200);
    const fits = { blob: 'm'.repeat(16 * 1024 - 20) }; // 16 KiB of JSON with its braces
    expect((await call('todo', { ...base, session_id: 'meta', metadata: fits })).status).to.equal(
      200,
    );
    expect((await get('/sessions')).body.meta.metadata).to.deep.equal(fits);
    expect(
      (await call('todo', { ...base, session_id: 'A-z_0.9:x', timeout: 0.5 })).status,
    ).to.equal(200);

    const unknownTool = await call('todo', { tool: 'nope', session_id: 'ok' });
    expectError(unknownTool, 400, 'invalid_params');
    expect(unknownTool.body).to.include({ code: -32602, error: 'Unknown tool: nope' });

    expectError(await call('nope', base), 404, 'unknown_service');
    expectError(await call('off', base), 404, 'service_disabled');
    expectError(await get('/services/nope/tools'), 404, 'unknown_service');
    expectError(await get('/services/off/tools'), 404, 'service_disabled');
    expectError(await get('/nothing/here'), 404, 'not_found');
    expectError(await get('/services/todo'), 404, 'not_found');
    expectError(await del('/sessions/unknown-id'), 404, 'unknown_session');
    expectError(await get('/services/todo/call'), 405, 'method_not_allowed');
    expectError(await post('/services', {}), 405, 'method_not_allowed');
    // as the gateway: a disabled service is not listed, here or in /health
    expect((await get('/services')).body).not.to.have.property('off');
    expect((await http(`${relay!.url}/health`)).body.services).not.to.have.property('off');
  });

  it('refuses a body over max_message_bytes with 413 without spawning anything', async function () {
    await start(undefined, { server: { max_message_bytes: 4096 } });
    const big = { tool: 'echo', session_id: 's', arguments: { text: 'x'.repeat(10_000) } };
    expectError(await call('fixture', big), 413, 'message_too_large');
    expect(relay!.relay.registry.size).to.equal(0);
    const small = await call('fixture', {
      tool: 'echo',
      session_id: 's',
      arguments: { text: 'ok' },
    });
    expect(small.body.result).to.equal('ok');
  });

  it('rate limits per client: 429 with Retry-After over HTTP, a rate_limited JSON-RPC error on a WebSocket', async function () {
    await start(undefined, { rate_limiting: { enabled: true, requests_per_minute: 4 } });
    for (let i = 0; i < 4; i++) expect((await get('/services')).status).to.equal(200);
    const limited = await get('/services');
    expectError(limited, 429, 'rate_limited');
    expect(Number(limited.headers['retry-after'])).to.be.within(1, 60);
    expect(limited.body.retry_after_ms).to.be.within(1, 60_000);
    // the health routes are not limited
    expect((await http(`${relay!.url}/healthz`)).status).to.equal(200);
    const upgrade = await connectWs(relay!.ws('/ws'), 'mcpmux.v1', { headers: bearer(TOKEN) }).then(
      () => 'accepted',
      (err: unknown) => String(err),
    );
    expect(upgrade).to.include('HTTP 429');
    await relay!.close();

    await start(undefined, { rate_limiting: { enabled: true, requests_per_minute: 3 } });
    // the upgrade takes one token, initialize the second, the first call the third
    const c = await connectWs(relay!.ws('/mcp/fixture'), 'mcp', { headers: bearer(TOKEN) });
    sockets.push(c);
    c.send({ jsonrpc: '2.0', id: 1, method: 'initialize', params: INIT_PARAMS });
    expect((await c.next()).result).to.have.property('serverInfo');
    c.send({ jsonrpc: '2.0', method: 'notifications/initialized' }); // notifications are not counted
    const echo = (id: number) => ({
      jsonrpc: '2.0',
      id,
      method: 'tools/call',
      params: { name: 'echo', arguments: { text: 'x' } },
    });
    c.send(echo(2));
    expect((await c.next()).result.content[0].text).to.equal('x');
    c.send(echo(3));
    const refused = await c.next();
    expect(refused.id).to.equal(3);
    expect(refused.error.code).to.equal(-32000);
    expect(refused.error.data.reason).to.equal('rate_limited');
    expect(refused.error.data.retry_after_ms).to.be.a('number').above(0);
    expect(c.ws.readyState).to.equal(c.ws.OPEN); // the connection stays usable
  });

  it('creates one session for concurrent first calls with the same session_id', async function () {
    await start();
    const spawnsBefore = relay!.relay.manager.stats().spawns;
    const answers = await Promise.all(
      Array.from({ length: 6 }, (_, i) =>
        call('todo', { tool: 'add_todo', arguments: { text: `t${i}` }, session_id: 'race' }),
      ),
    );
    expect(answers.map((a) => a.status)).to.deep.equal([200, 200, 200, 200, 200, 200]);
    expect(relay!.relay.manager.stats().spawns - spawnsBefore).to.equal(1);
    const list = await call('todo', { tool: 'list_todos', session_id: 'race' });
    expect(list.body.structuredContent.todos).to.have.length(6);
  });

  it('with rest.ended_sessions "report", tells the next call once that its session ended (idle timeout, crash)', async function () {
    await start(undefined, { rest: { ended_sessions: 'report' } });
    const sid = 'short';
    expect(
      (
        await call('todo', {
          tool: 'add_todo',
          arguments: { text: 'x' },
          session_id: sid,
          timeout: 0.3,
        })
      ).status,
    ).to.equal(200);
    await waitFor(() => relay!.relay.registry.size === 0, 10_000, 'the idle session to stop');
    expect((await get('/sessions')).body).to.deep.equal({});
    const gone = await call('todo', { tool: 'list_todos', session_id: sid });
    expectError(gone, 410, 'idle_timeout');
    expect(gone.body.error).to.include('starts a new one');
    const fresh = await call('todo', { tool: 'list_todos', session_id: sid });
    expect(fresh.body.result).to.equal('No todos.');

    const crashed = await call('fixture', { tool: 'crash', session_id: 'c' });
    expectError(crashed, 502, 'upstream_exited');
    await waitFor(
      () => relay!.relay.registry.all().every((s) => s.serviceName !== 'fixture'),
      10_000,
      'the crashed session to go',
    );
    expectError(
      await call('fixture', { tool: 'echo', arguments: { text: 'a' }, session_id: 'c' }),
      502,
      'upstream_exited',
    );
    expect(
      (await call('fixture', { tool: 'echo', arguments: { text: 'b' }, session_id: 'c' })).body
        .result,
    ).to.equal('b');
  });

  it('serves a call whose session ended on its own on a new one and says so, also after a failed start', async function () {
    await start(undefined, { session: { max_sessions_per_service: 1 } });
    const echo = (sid: string, text: string, timeout?: number) =>
      call('fixture', { tool: 'echo', arguments: { text }, session_id: sid, timeout });
    expect((await echo('a', '1', 0.3)).body.session_restarted).to.equal(undefined);
    await waitFor(() => relay!.relay.registry.size === 0, 10_000, 'the idle session to stop');
    expect((await echo('b', 'holds the only slot')).status).to.equal(200);
    // the new session of 'a' cannot start: the end is not told yet
    const refused = await echo('a', '2');
    expectError(refused, 503, 'session_limit');
    expect(refused.body.session_restarted).to.equal(undefined);
    expect((await del('/sessions/b')).status).to.equal(200);
    await waitFor(() => relay!.relay.registry.size === 0, 10_000, 'b to stop');
    const served = await echo('a', '3');
    expect(served.status, served.text).to.equal(200);
    expect(served.body).to.include({
      result: '3',
      session_restarted: true,
      previous_end_reason: 'idle_timeout',
    });
    expect(served.body.previous_end_message).to.be.a('string');
    expect(Date.parse(served.body.previous_ended_at as string)).to.be.below(Date.now());
    // a deleted id starts afresh without a word
    expect((await del('/sessions/a')).status).to.equal(200);
    await waitFor(() => relay!.relay.registry.size === 0, 10_000, 'a to stop');
    expect((await echo('a', '4')).body.session_restarted).to.equal(undefined);
  });

  it('answers tools from a cache that a list_changed notification refreshes', async function () {
    await start();
    const spawns = () => relay!.relay.manager.stats().spawns;
    const before = spawns();
    expect((await get('/services/fixture/tools')).status).to.equal(200);
    expect(spawns() - before, 'one process fills the cache').to.equal(1);
    for (let i = 0; i < 3; i++) expect((await get('/services/fixture/tools')).status).to.equal(200);
    expect(spawns() - before, 'later listings come from the cache').to.equal(1);
    await call('fixture', { tool: 'list-changed', session_id: 'lc' }); // spawns the session
    expect((await get('/services/fixture/tools')).status).to.equal(200);
    expect(spawns() - before, 'list_changed invalidated the cache').to.equal(3);
  });

  it('lists WebSocket sessions by uuid and closes one on DELETE', async function () {
    await start();
    const c = await connectWs(relay!.ws('/ws'), 'mcpmux.v1', { headers: bearer(TOKEN) });
    sockets.push(c);
    c.send({ type: 'open', channel: 'c1', service: 'fixture' });
    const opened = await c.next();
    expect(opened.type).to.equal('opened');
    const sessions = (await get('/sessions')).body;
    expect(sessions[opened.session]).to.include({
      service_name: 'fixture',
      transport: 'websocket',
      state: 'attached',
      timeout: 300,
    });
    expect((await del(`/sessions/${opened.session}`)).status).to.equal(200);
    expect(await c.next()).to.include({ type: 'closed', channel: 'c1', reason: 'session_closed' });
    expectError(await del(`/sessions/${opened.session}`), 404, 'unknown_session');
  });
});
