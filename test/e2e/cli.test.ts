// The mcpmux command as an operator runs it (dist/cli.js): --check, start-up log, a session over a
// direct WebSocket, graceful shutdown on SIGTERM (SPEC §9) and no orphan after SIGKILL (SPEC §3).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { FIXTURE_SERVER, ROOT } from '../helpers/config.js';
import { gatewayPem } from '../helpers/certs.js';
import { http } from '../helpers/http.js';
import { isAlive, serverProcesses, waitFor } from '../helpers/processes.js';
import { INIT_PARAMS, WsCursor } from '../helpers/relay.js';
import { resultText, toolCall } from '../helpers/jsonrpc.js';

const CLI = join(ROOT, 'dist/cli.js');
const DEFAULT_CONFIG = join(ROOT, 'config/default.json');
const SIGNALWIRE_CONFIG = join(ROOT, 'test/fixtures/config/signalwire-sample-config.json');

const call = toolCall;
const textOf = resultText;

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** A running `node dist/cli.js …`, its stdout read line by line. */
class Cli {
  readonly child: ChildProcess;
  readonly lines: string[] = [];
  stderr = '';
  readonly exited: Promise<Exit>;
  #exit: Exit | undefined;
  #waiter: (() => void) | undefined;

  constructor(args: string[]) {
    this.child = spawn(process.execPath, [CLI, ...args], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    createInterface({ input: this.child.stdout! }).on('line', (line) => {
      this.lines.push(line);
      this.#waiter?.();
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.#exit = { code, signal };
        this.#waiter?.();
        resolve(this.#exit);
      });
    });
  }

  /** The JSON log lines written so far. */
  logs(): any[] {
    return this.lines.flatMap((line) => {
      try {
        return [JSON.parse(line)];
      } catch {
        return [];
      }
    });
  }

  /** The first JSON log line matching `predicate`, awaited under a deadline. */
  async log(predicate: (entry: any) => boolean, timeoutMs = 10_000): Promise<any> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs().find(predicate);
      if (found !== undefined) return found;
      if (this.#exit !== undefined) {
        throw new Error(
          `relay exited (${JSON.stringify(this.#exit)}) without the log line; stdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`,
        );
      }
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new Error(
          `no such log line within ${timeoutMs} ms; stdout:\n${this.lines.join('\n')}`,
        );
      }
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.#waiter = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      this.#waiter = undefined;
    }
  }

  async exit(timeoutMs = 15_000): Promise<Exit> {
    let timer: NodeJS.Timeout | undefined;
    try {
      return await Promise.race([
        this.exited,
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`relay did not exit within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  kill(signal: NodeJS.Signals): void {
    if (this.#exit === undefined) this.child.kill(signal);
  }
}

/** Runs the CLI to completion (for --check). */
function runCli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [CLI, ...args], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 15_000,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('mcpmux command (dist/cli.js)', function () {
  let dir: string;
  const relays: Cli[] = [];
  const cursors: WsCursor[] = [];

  before(function () {
    if (existsSync(CLI)) return;
    this.timeout(180_000);
    const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0)
      throw new Error(`npm run build failed:\n${build.stdout}${build.stderr}`);
  });

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'mcpmux-cli-'));
  });

  afterEach(async function () {
    for (const c of cursors.splice(0)) c.ws.terminate();
    for (const r of relays.splice(0)) {
      r.kill('SIGKILL');
      await r.exit().catch(() => undefined);
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** A config file serving the fixture server, its sessions sandboxed under the temp dir. */
  function fixtureConfig(): string {
    const file = join(dir, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        server: { host: '127.0.0.1', port: 8100, shutdown_grace: 5 },
        services: {
          fixture: {
            command: ['node', FIXTURE_SERVER],
            description: 'the test fixture server',
            enabled: true,
            // No tool list at start: its listing process would be a second fixture server beside
            // the session's, which the pid checks below find by command line.
            preload_tools: false,
          },
        },
        session: { sandbox_dir: join(dir, 'sandbox') },
        logging: { level: 'warn' },
      }),
    );
    return file;
  }

  function startCli(args: string[]): Cli {
    const cli = new Cli(args);
    relays.push(cli);
    return cli;
  }

  /** Starts the relay on a free port; resolves with its http URL once it logs `listening`. */
  async function startRelay(
    extra: string[] = [],
  ): Promise<{ cli: Cli; url: string; ws: (path: string) => string }> {
    const args = ['--config', fixtureConfig(), '--port', '0', '--log-level', 'info', ...extra];
    const cli = startCli(args);
    const listening = await cli.log((e) => e.msg === 'listening');
    expect(listening.url)
      .to.be.a('string')
      .that.matches(/^http:\/\/127\.0\.0\.1:\d+$/);
    const url = listening.url as string;
    expect(url).not.to.match(/:8100$/);
    return { cli, url, ws: (path) => url.replace(/^http/, 'ws') + path };
  }

  /** A direct channel to the fixture, initialized; resolves with the server's pid too. */
  async function openFixture(ws: (path: string) => string): Promise<{ c: WsCursor; pid: number }> {
    const c = await WsCursor.connect(ws('/mcp/fixture'), 'mcp');
    cursors.push(c);
    expect(c.headers['sec-websocket-protocol']).to.equal('mcp');
    c.send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: INIT_PARAMS });
    const init = await c.next();
    expect(init.id).to.equal(0);
    expect(init.result.serverInfo.name).to.equal('fixture');
    c.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    c.send(call(1, 'pid'));
    const reply = await c.next();
    expect(reply.id).to.equal(1);
    const inner = Number(textOf(reply));
    expect(Number.isInteger(inner) && inner > 0, `pid ${textOf(reply)}`).to.equal(true);
    // in its own PID namespace the server knows only its pid in there: find it from outside
    const servers = serverProcesses(FIXTURE_SERVER);
    expect(servers, JSON.stringify(servers)).to.have.length(1);
    const pid = servers[0]!.pid;
    expect(isAlive(pid)).to.equal(true);
    return { c, pid };
  }

  describe('--check', function () {
    it('accepts config/default.json, prints the todo service, exits 0', function () {
      const r = runCli(['--check', '--config', DEFAULT_CONFIG]);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/\btodo\b/);
      expect(r.stdout).to.include('examples/servers/todo.mjs');
    });

    it('rejects a value of the wrong type with exit 1, naming the key path on stderr', function () {
      const file = join(dir, 'bad.json');
      writeFileSync(
        file,
        JSON.stringify({
          services: { fixture: { command: ['node', FIXTURE_SERVER], concurrency: 'many' } },
        }),
      );
      const r = runCli(['--check', '--config', file]);
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include('services.fixture.concurrency');
      expect(r.stdout).not.to.include('is valid');
    });

    it('refuses a non-loopback --host without auth (protected mode) with exit 1, naming the keys; allow_unauthenticated lets it pass', function () {
      const file = join(dir, 'open.json');
      writeFileSync(
        file,
        JSON.stringify({ services: { fixture: { command: ['node', FIXTURE_SERVER] } } }),
      );
      const r = runCli(['--check', '--config', file, '--host', '0.0.0.0']);
      expect(r.status).to.equal(1);
      expect(r.stderr).to.include('server.host "0.0.0.0" is not a loopback address');
      expect(r.stderr).to.include('protected mode');
      expect(r.stderr).to.include('server.allow_unauthenticated');
      const allowed = join(dir, 'allowed.json');
      writeFileSync(
        allowed,
        JSON.stringify({
          server: { allow_unauthenticated: true },
          services: { fixture: { command: ['node', FIXTURE_SERVER] } },
        }),
      );
      const ok = runCli(['--check', '--config', allowed, '--host', '0.0.0.0']);
      expect(ok.status, ok.stderr).to.equal(0);
    });

    it('accepts the SignalWire gateway sample config with warnings for the keys it does not know', function () {
      const r = runCli(['--check', '--config', SIGNALWIRE_CONFIG]);
      expect(r.status, r.stderr).to.equal(0);
      expect(r.stdout).to.match(/warning/i);
      expect(r.stdout).to.include('session.cleanup_interval');
      expect(r.stdout).to.match(/\btodo\b/);
    });
  });

  describe('running', function () {
    it('logs listening, serves /healthz and a direct channel, and on SIGTERM finishes the in-flight request, closes with 1001, stops the server and exits 0', async function () {
      this.timeout(30_000);
      const { cli, url, ws } = await startRelay();
      const healthz = await fetch(`${url}/healthz`);
      expect(healthz.status).to.equal(200);
      const readyz = await fetch(`${url}/readyz`);
      expect(readyz.status).to.equal(200);

      const { c, pid } = await openFixture(ws);
      c.send(call(2, 'echo', { text: 'through the cli' }));
      expect(textOf(await c.next())).to.equal('through the cli');

      // a request in flight when the signal arrives gets to finish (shutdown_grace)
      c.send(call(3, 'progress', { steps: 20, ms: 25 }, { progressToken: 'p' }));
      const first = await c.next();
      expect(first.method).to.equal('notifications/progress');
      cli.kill('SIGTERM');
      await cli.log((e) => /shutting down/.test(String(e.msg)));
      // draining: no longer ready (refused outright, or 503)
      const ready = await fetch(`${url}/readyz`).then(
        (res) => res.status,
        () => 'refused',
      );
      expect(ready).to.be.oneOf([503, 'refused']);

      const { match: done, skipped } = await c.until((m) => m.id === 3, 10_000);
      expect(textOf(done)).to.equal('done 20');
      expect(skipped.every((m) => m.method === 'notifications/progress')).to.equal(true);
      const closed = await c.expectClose(10_000);
      expect(closed.code).to.equal(1001);

      const exit = await cli.exit();
      expect(exit, cli.stderr).to.deep.equal({ code: 0, signal: null });
      await waitFor(() => !isAlive(pid), 5000, 'the fixture server to be gone');
      expect(cli.logs().some((e) => e.msg === 'shut down')).to.equal(true);
    });

    it('lets the origins given with --allow-origin (repeatable) use the relay, and no other; serves the dashboard', async function () {
      this.timeout(30_000);
      const dev = 'http://localhost:5173';
      const other = 'http://127.0.0.1:5174';
      const { url } = await startRelay(['--allow-origin', dev, '--allow-origin', other]);
      const probe = (origin: string) => fetch(`${url}/ws`, { headers: { origin } });
      expect((await probe(dev)).status).to.equal(200);
      expect((await probe(other)).status).to.equal(200);
      const foreign = await probe('http://evil.example');
      expect(foreign.status).to.equal(403);
      expect(((await foreign.json()) as { reason: string }).reason).to.equal('forbidden_origin');
      // the dashboard's files resolve from dist/ to the package's web/ directory
      const page = await fetch(`${url}/`);
      expect(page.status).to.equal(200);
      expect(await page.text()).to.contain('/dashboard/app.js');
      expect((await fetch(`${url}/dashboard/playground.js`)).status).to.equal(200);
    });

    it('leaves no server process alive when the relay is killed with SIGKILL', async function () {
      this.timeout(30_000);
      const { cli, ws } = await startRelay();
      const { c, pid } = await openFixture(ws);
      cli.kill('SIGKILL');
      const exit = await cli.exit();
      expect(exit.signal).to.equal('SIGKILL');
      await c.expectClose(5000);
      await waitFor(() => !isAlive(pid), 5000, 'the orphaned fixture server to die');
    });

    it("serves HTTPS with a certs/server.pem beside its config (SignalWire's convention) and logs it", async function () {
      this.timeout(30_000);
      const made = gatewayPem(dir);
      if (made === undefined) this.skip(); // no openssl here
      const file = fixtureConfig();
      const check = runCli(['--check', '--config', file]);
      expect(check.status, check.stderr).to.equal(0);
      expect(check.stdout).to.include(`serving HTTPS with ${made.pem}`);
      const cli = startCli(['--config', file, '--port', '0', '--log-level', 'info']);
      const listening = await cli.log((e) => e.msg === 'listening');
      expect(listening.url).to.match(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(listening.tls).to.equal(made.pem);
      const notice = cli.logs().find((e) => String(e.msg).startsWith('serving HTTPS'));
      expect(notice?.msg).to.include(made.pem);
      const health = await http(`${listening.url as string}/health`, { ca: made.cert });
      expect(health.status).to.equal(200);
    });
  });
});
