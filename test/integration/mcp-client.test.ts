import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { McpmuxError, UpstreamError } from '../../src/errors.js';
import { ClientPool, textOf, within } from '../helpers/clients.js';
import { captureLogs } from '../helpers/http.js';
import { ROOT, fixtureService } from '../helpers/config.js';
import { isAlive, serverPidOf, waitFor } from '../helpers/processes.js';
import type { JsonRpcRequest } from '../../src/jsonrpc/types.js';

function limitOf(pid: number, name: string): string {
  const line = readFileSync(`/proc/${pid}/limits`, 'utf8')
    .split('\n')
    .find((l) => l.startsWith(name));
  if (line === undefined) throw new Error(`no ${name} in /proc/${pid}/limits`);
  return line.slice(26).trim().split(/\s+/)[0]!; // soft limit column
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (err) {
    return err as Error;
  }
  throw new Error('expected a rejection');
}

describe('MCPClient (real fixture processes)', function () {
  const pool = new ClientPool();
  afterEach(() => pool.close());

  it('spawns, initializes, lists every page of tools and calls one', async function () {
    const client = pool.client(fixtureService(['--page-size=3']));
    await client.start({ initialize: true });
    expect(client.state).to.equal('running');
    expect((client.initializeResult as { serverInfo: { name: string } }).serverInfo.name).to.equal(
      'fixture',
    );
    const tools = await client.listTools();
    expect(tools.length).to.be.greaterThan(3);
    expect(tools.map((t) => t.name)).to.include.members(['echo', 'crash', 'sample']);
    expect(textOf(await client.callTool('echo', { text: 'hi' }))).to.equal('hi');
  });

  it('applies the configured rlimits, visible in /proc/<pid>/limits', async function () {
    const client = pool.client(
      fixtureService([], {
        sandbox: {
          limits: {
            cpu_seconds: 123,
            memory_mb: 900,
            max_processes: 77,
            file_size_mb: 5,
            open_files: 321,
          },
        },
      }),
    );
    await client.start({ initialize: true });
    const pid = serverPidOf(client.pid!);
    expect(limitOf(pid, 'Max cpu time')).to.equal('123');
    expect(limitOf(pid, 'Max data size')).to.equal(String(900 * 1024 * 1024));
    expect(limitOf(pid, 'Max processes')).to.equal('77');
    expect(limitOf(pid, 'Max file size')).to.equal(String(5 * 1024 * 1024));
    expect(limitOf(pid, 'Max open files')).to.equal('321');
    expect(limitOf(pid, 'Max address space')).to.equal('unlimited');
    // the server reports the same from inside
    expect(textOf(await client.callTool('limits'))).to.match(/Max open files\s+321/);
  });

  it('gives the process only PATH, HOME, TMPDIR, LANG and the service env', async function () {
    const saved = { ...process.env };
    process.env.NODE_OPTIONS = '--no-deprecation';
    process.env.MCPMUX_AUTH_TOKEN = 'secret';
    try {
      const client = pool.client(fixtureService([], { env: { API_KEY: 'k1' } }));
      await client.start({ initialize: true });
      const env = JSON.parse(textOf(await client.callTool('env'))) as Record<string, string>;
      expect(Object.keys(env).sort()).to.deep.equal(['API_KEY', 'HOME', 'LANG', 'PATH', 'TMPDIR']);
      expect(env.API_KEY).to.equal('k1');
      expect(env.TMPDIR).to.equal(`${env.HOME}/tmp`);
      expect(textOf(await client.callTool('cwd'))).to.equal(env.HOME);
    } finally {
      process.env = saved;
    }
  });

  it('inherits the env when restricted_env is false, minus the dangerous variables', async function () {
    const saved = { ...process.env };
    process.env.NODE_OPTIONS = '--no-deprecation';
    process.env.MCPMUX_AUTH_TOKEN = 'secret';
    process.env.SOME_PARENT_VAR = 'visible';
    try {
      const client = pool.client(fixtureService([], { sandbox: { restricted_env: false } }));
      await client.start({ initialize: true });
      const env = JSON.parse(textOf(await client.callTool('env'))) as Record<string, string>;
      expect(env.SOME_PARENT_VAR).to.equal('visible');
      expect(env).not.to.have.property('NODE_OPTIONS');
      expect(env).not.to.have.property('MCPMUX_AUTH_TOKEN');
    } finally {
      process.env = saved;
    }
  });

  it('runs the server as nobody, with no-new-privileges, when drop_privileges is set (root only)', async function () {
    if (process.getuid?.() !== 0) this.skip();
    const client = pool.client(fixtureService([], { sandbox: { drop_privileges: true } }));
    await client.start({ initialize: true });
    const status = readFileSync(`/proc/${serverPidOf(client.pid!)}/status`, 'utf8');
    const field = (name: string) => status.split('\n').find((l) => l.startsWith(`${name}:`))!;
    expect(field('Uid').split(/\s+/).slice(1, 4)).to.deep.equal(['65534', '65534', '65534']);
    expect(field('Groups').split(/\s+/).filter(Boolean)).to.deep.equal(['Groups:']);
    expect(field('NoNewPrivs').endsWith('1')).to.equal(true);
    expect(textOf(await client.callTool('echo', { text: 'as nobody' }))).to.equal('as nobody');
  });

  it('fails a pending request well under a second after the process dies', async function () {
    const client = pool.client(fixtureService());
    await client.start({ initialize: true });
    const started = Date.now();
    const err = await rejection(client.callTool('crash', { code: 3 }));
    const elapsed = Date.now() - started;
    expect(err).to.be.instanceOf(McpmuxError);
    const e = err as McpmuxError;
    expect(e.reason).to.equal('upstream_exited');
    expect(e.data.exit_code).to.equal(3);
    expect(e.data.stderr_tail).to.include('crashing now');
    expect(elapsed).to.be.lessThan(1000);
    expect(client.state).to.equal('exited');
  });

  it('fails a request sent to a process that already exited, without throwing EPIPE', async function () {
    const client = pool.client(fixtureService(['--exit-on-start=0']));
    await client.start();
    await client.exited;
    const err = await rejection(client.callTool('echo', { text: 'x' }));
    expect((err as McpmuxError).reason).to.equal('upstream_exited');
    client.sendRaw('{"jsonrpc":"2.0","method":"notifications/initialized"}');
  });

  it('keeps answering while the server floods 10 MB to stderr', async function () {
    const client = pool.client(fixtureService());
    await client.start({ initialize: true });
    const flood = client.callTool('flood-stderr', { bytes: 10 * 1024 * 1024 });
    const echo = client.callTool('echo', { text: 'still here' });
    expect(textOf(await within(flood, 15000, 'flood reply'))).to.equal(
      `flooded ${10 * 1024 * 1024}`,
    );
    expect(textOf(await within(echo, 15000, 'echo reply'))).to.equal('still here');
  });

  it('drains stderr into the log, rate-limited, with a count of what it dropped', async function () {
    const logs = captureLogs();
    const client = pool.client(fixtureService(), { logger: logs.logger });
    await client.start({ initialize: true });
    expect(textOf(await client.callTool('stderr', { text: 'hello from the server' }))).to.equal(
      'ok',
    );
    // 10 MB of stderr: 160 lines of 64 KiB, far more than the log takes in a second
    await client.callTool('flood-stderr', { bytes: 10 * 1024 * 1024 });
    await client.stop();
    const stderrLines = logs.lines().filter((l) => l.component === 'stderr');
    expect(stderrLines.some((l) => l.stderr === 'hello from the server')).to.equal(true);
    const logged = stderrLines.filter((l) => typeof l.stderr === 'string');
    expect(logged.length).to.be.lessThan(100);
    const dropped = stderrLines.reduce((n: number, l) => n + Number(l.suppressed ?? 0), 0);
    expect(dropped).to.be.greaterThan(0);
    expect(logged.length + dropped).to.be.greaterThan(150); // every line was read
  });

  it('kills a server that traps SIGTERM and ignores stdin EOF', async function () {
    const client = pool.client(fixtureService(['--trap-sigterm', '--ignore-eof']), {
      stopGraceMs: 200,
    });
    await client.start({ initialize: true });
    const pid = client.pid!;
    const exit = await client.stop();
    expect(exit.signal).to.equal('SIGKILL');
    expect(exit.stderrTail).to.include('sigterm ignored');
    expect(isAlive(pid)).to.equal(false);
  });

  it('stops an idle server by closing its stdin (no signal needed)', async function () {
    const client = pool.client(fixtureService());
    await client.start({ initialize: true });
    const exit = await client.stop();
    expect(exit).to.include({ code: 0, signal: null, requested: true });
  });

  it('leaves no server alive when the process holding the client is SIGKILLed', async function () {
    const parent = spawn(
      process.execPath,
      ['--import', 'tsx', `${ROOT}/test/fixtures/client-parent.ts`],
      {
        cwd: ROOT,
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    const lines = createInterface({ input: parent.stdout });
    const [line] = (await within(once(lines, 'line'), 15000, 'child pid from parent')) as [string];
    const serverPid = Number(line);
    expect(isAlive(serverPid)).to.equal(true);
    const exited = once(parent, 'exit');
    parent.kill('SIGKILL');
    await exited;
    await waitFor(() => !isAlive(serverPid), 5000, 'server to die with its parent');
  });

  it('gives two sessions different HOME directories and removes both on stop, off the event loop', async function () {
    const a = pool.client(fixtureService());
    const b = pool.client(fixtureService());
    await Promise.all([a.start({ initialize: true }), b.start({ initialize: true })]);
    const homeA = (JSON.parse(textOf(await a.callTool('env'))) as { HOME: string }).HOME;
    const homeB = (JSON.parse(textOf(await b.callTool('env'))) as { HOME: string }).HOME;
    expect(homeA).not.to.equal(homeB);
    expect(existsSync(homeA) && existsSync(homeB)).to.equal(true);
    // Removed off the event loop (rmSync would stall every session while a big HOME goes):
    // still there when the exit is reported, gone once stop() resolves.
    let atExit: boolean | undefined;
    a.once('exit', () => (atExit = existsSync(homeA)));
    await Promise.all([a.stop(), b.stop()]);
    expect(atExit, 'HOME removed synchronously at exit').to.equal(true);
    expect(existsSync(homeA) || existsSync(homeB)).to.equal(false);
  });

  it('reports a server killed by its memory limit as upstream_exited', async function () {
    const client = pool.client(fixtureService([], { sandbox: { limits: { memory_mb: 256 } } }));
    await client.start({ initialize: true });
    const err = await within(
      rejection(client.callTool('alloc', { mb_per_step: 16 })),
      15000,
      'oom',
    );
    expect((err as McpmuxError).reason).to.equal('upstream_exited');
    expect(client.exitInfo?.requested).to.equal(false);
  });

  it('emits a server→client request and sends the answer back', async function () {
    const client = pool.client(fixtureService());
    client.on('request', (request: JsonRpcRequest) => {
      expect(request.method).to.equal('sampling/createMessage');
      client.respond(request.id, {
        result: { role: 'assistant', model: 'test', content: { type: 'text', text: 'sampled!' } },
      });
    });
    await client.start({ initialize: true });
    expect(textOf(await client.callTool('sample', { prompt: 'hello' }))).to.equal('sampled!');
  });

  it('answers a server request at once with an error when nobody listens', async function () {
    const client = pool.client(fixtureService());
    await client.start({ initialize: true });
    expect(textOf(await client.callTool('sample', { prompt: 'hello' }))).to.match(
      /^sampling error: no client is attached/,
    );
    expect(textOf(await client.callTool('ping-client'))).to.equal('pong');
  });

  it('ends at once with upstream_protocol_error on a stdout line over the limit', async function () {
    const client = pool.client(fixtureService(), { maxMessageBytes: 4096 });
    const errors: McpmuxError[] = [];
    client.on('protocol_error', (e) => errors.push(e));
    await client.start({ initialize: true });
    const started = Date.now();
    const err = (await rejection(client.callTool('long-line', { bytes: 20000 }))) as McpmuxError;
    expect(err.reason).to.equal('upstream_protocol_error');
    expect(err.data.problem).to.equal('line_too_long');
    expect(Date.now() - started).to.be.below(5000); // not the 60 s request_timeout
    expect(errors).to.have.length(1);
    await client.exited;
    expect(client.state).to.equal('exited');
  });

  it('times a request out and tells the server with notifications/cancelled', async function () {
    const client = pool.client(fixtureService());
    await client.start({ initialize: true });
    const err = await rejection(client.callTool('slow', { ms: 60000 }, { timeoutMs: 100 }));
    expect((err as McpmuxError).reason).to.equal('request_timeout');
    const ids = JSON.parse(textOf(await client.callTool('cancelled-ids'))) as string[];
    expect(ids).to.have.length(1);
    expect(ids[0]).to.match(/^mcpmux-/);
  });

  it('cancels a request through an AbortSignal', async function () {
    const client = pool.client(fixtureService());
    await client.start({ initialize: true });
    const ac = new AbortController();
    const call = client.callTool('slow', { ms: 60000 }, { signal: ac.signal });
    ac.abort();
    expect(((await rejection(call)) as McpmuxError).reason).to.equal('cancelled');
    const ids = JSON.parse(textOf(await client.callTool('cancelled-ids'))) as string[];
    expect(ids).to.have.length(1);
  });

  it('delivers progress for its own requests', async function () {
    const client = pool.client(fixtureService());
    await client.start({ initialize: true });
    const seen: number[] = [];
    const result = await client.callTool(
      'progress',
      { steps: 3, ms: 1 },
      { onProgress: (p) => seen.push(p.progress) },
    );
    expect(textOf(result)).to.equal('done 3');
    expect(seen).to.deep.equal([1, 2, 3]);
  });

  it('passes a server JSON-RPC error through as UpstreamError', async function () {
    const client = pool.client(fixtureService());
    await client.start({ initialize: true });
    const err = await rejection(client.callTool('no-such-tool'));
    expect(err).to.be.instanceOf(UpstreamError);
    expect((err as UpstreamError).code).to.equal(-32602);
  });

  it('refuses a command that does not exist with spawn_failed', async function () {
    const client = pool.client(fixtureService([], {}));
    const bad = pool.client({ ...fixtureService(), command: ['definitely-not-a-command-xyz'] });
    client;
    const err = await rejection(bad.start());
    expect((err as McpmuxError).reason).to.equal('spawn_failed');
  });
});
