// Issue 11 through the shipped command (dist/cli.js): /health reports the isolation each service
// got, and when the relay is SIGKILLed no process of a namespaced session's tree survives, a
// `setsid` grandchild included. Skipped, with the reason in the title, without a usable bubblewrap.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { expect } from 'chai';
import { hostInfo } from '../../src/sandbox/host.js';
import { ROOT } from '../helpers/config.js';
import { resultText, toolCall } from '../helpers/jsonrpc.js';
import { serverProcesses, suiteProcesses, waitFor } from '../helpers/processes.js';
import { INIT_PARAMS, WsCursor } from '../helpers/relay.js';

const CLI = join(ROOT, 'dist/cli.js');
const PROBE = join(ROOT, 'test/fixtures/probe.mjs');

describe('mcpmux command: namespaced sessions (issue 11)', function () {
  this.timeout(30_000);
  let dir: string | undefined;
  let relay: ChildProcess | undefined;
  let cursor: WsCursor | undefined;

  beforeEach(function () {
    const host = hostInfo();
    if (host.bwrap === undefined) {
      this.currentTest!.title += ` [SKIPPED: bubblewrap not usable: ${host.bwrapProblem}]`;
      this.skip();
    }
    dir = mkdtempSync(join(tmpdir(), 'mcpmux-sandbox-'));
  });

  afterEach(async function () {
    cursor?.ws.terminate();
    if (relay !== undefined && relay.exitCode === null && relay.signalCode === null) {
      relay.kill('SIGKILL');
      await new Promise((resolve) => relay!.once('exit', resolve));
    }
    relay = undefined;
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  });

  /** Starts the relay with one probe service; resolves with its URL once it logs `listening`. */
  async function start(marker: string): Promise<string> {
    const file = join(dir!, 'config.json');
    writeFileSync(
      file,
      JSON.stringify({
        server: { host: '127.0.0.1', port: 0 },
        services: {
          // preload_tools off: a listing process at start would carry the marker too
          probe: {
            command: ['node', PROBE, marker],
            preload_tools: false,
            sandbox: { drop_privileges: true },
          },
        },
        session: { sandbox_dir: join(dir!, 'sandbox') },
        logging: { level: 'info' },
      }),
    );
    const child = spawn(process.execPath, [CLI, '--config', file], {
      cwd: ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    relay = child;
    const lines = createInterface({ input: child.stdout });
    const deadline = setTimeout(() => child.kill('SIGKILL'), 15_000);
    try {
      for await (const line of lines) {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'listening') return entry.url!;
      }
    } finally {
      clearTimeout(deadline);
    }
    throw new Error('the relay exited before listening');
  }

  it('reports the isolation level per service in /health', async function () {
    const url = await start(`health-${process.pid}`);
    const health = (await (await fetch(`${url}/health`)).json()) as any;
    expect(health.services.probe.isolation).to.equal('namespaces');
  });

  it('leaves no process of a session tree alive, setsid grandchild included, when the relay is SIGKILLed', async function () {
    const marker = `relay-kill-${process.pid}-${Date.now()}`;
    const url = await start(marker);
    cursor = await WsCursor.connect(`${url.replace(/^http/, 'ws')}/mcp/probe`, 'mcp');
    cursor.send({ jsonrpc: '2.0', id: 0, method: 'initialize', params: INIT_PARAMS });
    expect((await cursor.next()).result.serverInfo.name).to.equal('probe');
    cursor.send(toolCall(1, 'grandchild', { marker }));
    expect(resultText(await cursor.next())).to.equal('started');
    // the server and its setsid grandchild (bwrap and setpriv carry the marker too)
    await waitFor(() => serverProcesses(marker).length === 2, 5000, 'the grandchild to start');

    relay!.kill('SIGKILL');
    const tree = () => suiteProcesses().filter((p) => p.cmdline.includes(marker));
    await waitFor(() => tree().length === 0, 5000, 'every process of the session to die');
  });
});
