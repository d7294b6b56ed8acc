// Shutdown always ends (issue 16, SPEC §9): `node dist/cli.js` exits within shutdown_grace + the
// stop sequence (2 s + 2 s) + 1 s after SIGTERM even when its log output cannot be written — the
// reader of its stdout has gone, stops reading, or logging.file is a full disk — and a second
// signal ends it at once (exit 1) with its servers killed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect } from 'chai';
import { FIXTURE_SERVER, ROOT } from '../helpers/config.js';
import { isAlive, serverPidByCwd, waitFor } from '../helpers/processes.js';
import { INIT_PARAMS, WsCursor } from '../helpers/relay.js';
import { resultText, toolCall } from '../helpers/jsonrpc.js';

const CLI = join(ROOT, 'dist/cli.js');
const GRACE_S = 1;
/** SPEC: shutdown_grace + close stdin, 2 s, SIGTERM, 2 s (SIGKILL) + 1 s. */
const EXIT_BOUND_MS = GRACE_S * 1000 + 4000 + 1000;

type Exit = { code: number | null; signal: NodeJS.Signals | null };

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  server.close();
  await once(server, 'close');
  return port;
}

/** The child's exit, or a rejection once `ms` have passed. */
async function exitWithin(child: ChildProcess, exited: Promise<Exit>, ms: number): Promise<Exit> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      exited,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`relay did not exit within ${ms} ms`)), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** /healthz answering 200, polled under a deadline. */
async function healthy(url: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(`${url}/healthz`).then(
      (r) => r.status,
      () => 0,
    );
    if (status === 200) return;
    if (Date.now() > deadline) throw new Error(`/healthz not answering within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

describe('shutdown always ends (dist/cli.js)', function () {
  let dir: string;
  const children: ChildProcess[] = [];
  const cursors: WsCursor[] = [];

  before(function () {
    if (existsSync(CLI)) return;
    this.timeout(180_000);
    const build = spawnSync('npm', ['run', 'build'], { cwd: ROOT, encoding: 'utf8' });
    if (build.status !== 0) throw new Error(`npm run build failed:\n${build.stdout}`);
  });

  beforeEach(function () {
    dir = mkdtempSync(join(tmpdir(), 'mcpmux-shutdown-'));
  });

  afterEach(async function () {
    for (const c of cursors.splice(0)) c.ws.terminate();
    for (const child of children.splice(0)) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await once(child, 'exit');
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the relay on `port` with `extra` config merged in; stdout handled by the caller. */
  function start(
    port: number,
    extra: Record<string, unknown> = {},
    logging: Record<string, unknown> = {},
    grace = GRACE_S,
  ): { child: ChildProcess; exited: Promise<Exit>; url: string } {
    const file = join(dir, 'config.json');
    const config = {
      server: { host: '127.0.0.1', port, shutdown_grace: grace },
      services: { fixture: { command: ['node', FIXTURE_SERVER], enabled: true } },
      session: { sandbox_dir: join(dir, 'sandbox'), ...extra },
      logging: { level: 'info', ...logging },
    };
    writeFileSync(file, JSON.stringify(config));
    const child = spawn(process.execPath, [CLI, '--config', file], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    children.push(child);
    const exited = new Promise<Exit>((resolve) =>
      child.once('exit', (code, signal) => resolve({ code, signal })),
    );
    return { child, exited, url: `http://127.0.0.1:${port}` };
  }

  /** A direct channel to the fixture with a call that will not answer in time; the server's pid. */
  async function busySession(url: string): Promise<{ c: WsCursor; pid: number }> {
    const c = await WsCursor.connect(`${url.replace(/^http/, 'ws')}/mcp/fixture`);
    cursors.push(c);
    c.send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: INIT_PARAMS });
    expect((await c.next()).id).to.equal(0);
    c.send({ jsonrpc: '2.0', method: 'notifications/initialized' });
    c.send(toolCall(1, 'cwd')); // its session dir: the pid is 2 in its own PID namespace
    const pid = serverPidByCwd(resultText(await c.next()));
    c.send(toolCall(2, 'slow', { ms: 600_000 }));
    return { c, pid };
  }

  it('exits 0 within the bound on SIGTERM when the reader of its stdout has gone', async function () {
    this.timeout(30_000);
    const { child, exited, url } = start(await freePort());
    await healthy(url);
    const { pid } = await busySession(url);
    child.stdout!.destroy(); // the reader goes: every write to the pipe is EPIPE from now on
    child.kill('SIGTERM');
    const exit = await exitWithin(child, exited, EXIT_BOUND_MS);
    expect(exit).to.deep.equal({ code: 0, signal: null });
    await waitFor(() => !isAlive(pid), 5000, 'the fixture server to be gone');
  });

  it('exits 0 within the bound on SIGTERM when its stdout is a pipe nobody reads (full)', async function () {
    this.timeout(30_000);
    // ~600 KB of start-up warnings (unknown keys): far more than a pipe holds, never read
    const unknown = Object.fromEntries(
      Array.from({ length: 2000 }, (_, i) => [`unknown_${i}_${'x'.repeat(200)}`, 1]),
    );
    const { child, exited, url } = start(await freePort(), unknown);
    child.stdout!.pause();
    await healthy(url);
    const { pid } = await busySession(url);
    child.kill('SIGTERM');
    const exit = await exitWithin(child, exited, EXIT_BOUND_MS);
    expect(exit).to.deep.equal({ code: 0, signal: null });
    await waitFor(() => !isAlive(pid), 5000, 'the fixture server to be gone');
  });

  it('exits 0 within the bound on SIGTERM when logging.file is a full disk (/dev/full)', async function () {
    this.timeout(30_000);
    const { child, exited, url } = start(await freePort(), {}, { file: '/dev/full' });
    await healthy(url);
    const { pid } = await busySession(url);
    child.kill('SIGTERM');
    const exit = await exitWithin(child, exited, EXIT_BOUND_MS);
    expect(exit).to.deep.equal({ code: 0, signal: null });
    await waitFor(() => !isAlive(pid), 5000, 'the fixture server to be gone');
  });

  it('exits 1 at once on a second SIGTERM during a long drain, its servers killed', async function () {
    this.timeout(30_000);
    // a long grace: after the first signal the relay would wait 600 s for the slow call
    const { child, exited, url } = start(await freePort(), {}, {}, 600);
    await healthy(url);
    const { c, pid } = await busySession(url);
    const lines: string[] = [];
    child.stdout!.on('data', (chunk: Buffer) => lines.push(...chunk.toString('utf8').split('\n')));
    child.kill('SIGTERM');
    await waitFor(
      () => lines.some((l) => l.includes('"signal received, shutting down"')),
      5000,
      'the relay to start shutting down',
    );
    child.kill('SIGTERM');
    const exit = await exitWithin(child, exited, 1000);
    expect(exit).to.deep.equal({ code: 1, signal: null });
    await waitFor(() => !isAlive(pid), 2000, 'the fixture server to be killed');
    await c.expectClose(5000);
  });
});
