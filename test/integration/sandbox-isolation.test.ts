// Issue 11: a hostile server (test/fixtures/probe.mjs) tries each escape from inside its session;
// under isolation "namespaces" every attempt fails, every descendant dies with the session, and
// sessions that drop privileges each get a uid of their own. Without a usable bubblewrap these
// tests are reported as skipped, with the reason in their title.
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo, type Server } from 'node:net';
import { join } from 'node:path';
import { expect } from 'chai';
import type { ServiceConfig } from '../../src/config/types.js';
import type { MCPClient } from '../../src/mcp/mcp-client.js';
import { hostInfo, probeBwrap } from '../../src/sandbox/host.js';
import { Relay } from '../../src/relay.js';
import { MCPManager } from '../../src/sessions/mcp-manager.js';
import { textOf } from '../helpers/clients.js';
import { captureLogs } from '../helpers/http.js';
import { FIXTURE_SERVER, ROOT, serviceConfig, testConfig } from '../helpers/config.js';
import { serverPidOf, suiteProcesses, waitFor } from '../helpers/processes.js';

const PROBE = join(ROOT, 'test/fixtures/probe.mjs');
const host = hostInfo();

const PYTHON = '/usr/bin/python3';
/** A minimal MCP server in Python: initialize, and one tool `whoami` (uid, HOME). */
const PY_SERVER = `
import json, os, sys
for line in sys.stdin:
    m = json.loads(line)
    if 'id' not in m:
        continue
    if m['method'] == 'initialize':
        r = {'protocolVersion': m['params']['protocolVersion'], 'capabilities': {'tools': {}},
             'serverInfo': {'name': 'py', 'version': '1'}}
    else:
        r = {'content': [{'type': 'text', 'text': json.dumps({'uid': os.getuid(), 'home': os.environ['HOME']})}]}
    print(json.dumps({'jsonrpc': '2.0', 'id': m['id'], 'result': r}), flush=True)
`;

type Report = Record<string, { escaped: boolean; detail: string }>;

function probeService(sandbox: Record<string, unknown> = {}): ServiceConfig {
  return serviceConfig(['node', PROBE], { sandbox });
}

async function call(client: MCPClient, tool: string, args: object = {}): Promise<any> {
  const text = textOf(await client.callTool(tool, args as Record<string, unknown>));
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

const escapes = (report: Report) =>
  Object.entries(report)
    .filter(([, r]) => r.escaped)
    .map(([name, r]) => `${name}: ${r.detail}`);

describe('sandbox isolation "namespaces" (issue 11)', function () {
  this.timeout(60_000);
  let base: string;
  let manager: MCPManager | undefined;
  let listener: Server;
  let port: number;

  beforeEach(async function () {
    if (host.bwrap === undefined) {
      this.currentTest!.title += ` [SKIPPED: bubblewrap not usable: ${host.bwrapProblem}]`;
      this.skip();
    }
    // Outside /tmp (which is private inside anyway), so that what hides the config file and
    // sandbox_dir is the sandbox's own doing.
    base = mkdtempSync(join(ROOT, '.probe-'));
    chmodSync(base, 0o711); // sandbox_dir's parents must be traversable (docs/operations.md)
    listener = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    port = (listener.address() as AddressInfo).port;
  });

  afterEach(async function () {
    await manager?.shutdown();
    manager = undefined;
    listener?.close();
    if (base !== undefined) rmSync(base, { recursive: true, force: true });
  });

  function start(services: Record<string, ServiceConfig>, uidRange?: [number, number]) {
    const configFile = join(base, 'config.json');
    writeFileSync(configFile, JSON.stringify({ server: { auth_token: 'relay-secret-token' } }));
    const config = testConfig(services, {
      session: {
        sandbox_dir: join(base, 'sandbox'),
        ...(uidRange !== undefined && {
          uid_range_first: uidRange[0],
          uid_range_size: uidRange[1],
        }),
      },
    });
    manager = new MCPManager(config, { stopGraceMs: 300, configFile });
    return { manager, configFile, sandboxDir: config.session.sandbox_dir };
  }

  /** Session `attacker` probes session `victim` (which planted a secret in its HOME). */
  async function attack(attacker: MCPClient, victim: MCPClient, configFile: string, dir: string) {
    await call(victim, 'plant', { text: 'victim-secret' });
    return (await call(attacker, 'probe', {
      relayPid: process.pid,
      configFile,
      sandboxDir: dir,
      otherHome: join(dir, `${victim.service.name}-${victim.sessionId}`),
      otherPid: serverPidOf(victim.pid!),
      port,
      writePaths: [
        join(base, 'escape'),
        join(dir, 'escape'),
        join(ROOT, 'escape'),
        '/etc/mcpmux-escape',
        '/var/tmp/mcpmux-escape',
      ],
    })) as Report;
  }

  it('refuses every escape a hostile server tries, as its own uid and as root', async function () {
    const { manager, configFile, sandboxDir } = start({
      dropped: probeService({ drop_privileges: true, network: 'none' }),
      root: probeService({ network: 'none' }),
    });
    expect(manager.isolation.get('dropped')).to.equal('namespaces');
    const dropped = await manager.createClient('dropped', { initialize: true });
    const root = await manager.createClient('root', { initialize: true });

    const fromDropped = await attack(dropped, root, configFile, sandboxDir);
    expect(Object.keys(fromDropped)).to.have.length(14);
    expect(escapes(fromDropped), JSON.stringify(fromDropped)).to.deep.equal([]);
    const fromRoot = await attack(root, dropped, configFile, sandboxDir);
    expect(escapes(fromRoot), JSON.stringify(fromRoot)).to.deep.equal([]);
    // neither SIGKILL reached its target
    expect(await call(dropped, 'whoami')).to.include({ homeWritable: true });
    expect(await call(root, 'whoami')).to.include({ homeWritable: true });
  });

  it('the same probe gets through under isolation "rlimits" (the probe is not vacuous)', async function () {
    const { manager, configFile, sandboxDir } = start({
      a: probeService({ isolation: 'rlimits' }),
      b: probeService({ isolation: 'rlimits' }),
    });
    const a = await manager.createClient('a', { initialize: true });
    const b = await manager.createClient('b', { initialize: true });
    await call(b, 'plant', { text: 'victim-secret' });
    const report = await call(a, 'probe', {
      relayPid: process.pid,
      configFile,
      sandboxDir,
      otherHome: join(sandboxDir, `b-${b.sessionId}`),
      port,
    });
    expect(escapes(report as Report), JSON.stringify(report)).to.have.length(7);
  });

  it('gives the server a private view: its own pids, hostname, a writable HOME and TMPDIR', async function () {
    const { manager } = start({ p: probeService({ drop_privileges: true }) }, [300000, 10]);
    const p = await manager.createClient('p', { initialize: true });
    const me = await call(p, 'whoami');
    expect(me).to.include({ hostname: 'mcpmux', homeWritable: true, tmpdirWritable: true });
    expect(me.uid).to.equal(300000);
    expect(me.gid).to.equal(300000);
    expect(me.visiblePids).to.be.lessThan(5); // bwrap's init, the server, nothing of the host
  });

  it('runs 10 concurrent Node sessions that drop privileges, each as a uid of its own', async function () {
    const { manager } = start({ p: probeService({ drop_privileges: true }) }, [300000, 10]);
    const clients = await Promise.all(
      Array.from({ length: 10 }, () => manager.createClient('p', { initialize: true })),
    );
    const me = await Promise.all(clients.map((c) => call(c, 'whoami')));
    const uids = me.map((m) => m.uid as number);
    expect(new Set(uids).size).to.equal(10);
    expect(uids.every((u) => u >= 300000 && u < 300010)).to.equal(true);
    expect(me.every((m) => m.homeWritable && m.tmpdirWritable)).to.equal(true);
    // the range is used up: the 11th session is refused, until one stops and gives its uid back
    const refused = await manager.createClient('p').catch((err: unknown) => err);
    expect(String(refused)).to.match(/no free uid/);
    await clients[0]!.stop();
    const again = await manager.createClient('p', { initialize: true });
    expect((await call(again, 'whoami')).uid).to.equal(uids[0]);
  });

  it('runs a Python stdio server as its own uid (when /usr/bin/python3 exists)', async function () {
    if (!existsSync(PYTHON)) {
      this.test!.title += ` [SKIPPED: no ${PYTHON}]`;
      this.skip();
    }
    const { manager } = start({
      py: serviceConfig([PYTHON, '-c', PY_SERVER], { sandbox: { drop_privileges: true } }),
    });
    const py = await manager.createClient('py', { initialize: true });
    const me = await call(py, 'whoami');
    expect(me.uid).to.be.at.least(200000);
    expect(me.home).to.equal(join(base, 'sandbox', `py-${py.sessionId}`));
  });

  it('starts a session when a file to hide does not exist (a log file rotated away)', async function () {
    const config = testConfig(
      { p: probeService() },
      { session: { sandbox_dir: join(base, 'sandbox') } },
    );
    manager = new MCPManager(config, { stopGraceMs: 300, configFile: join(base, 'gone.json') });
    const p = await manager.createClient('p', { initialize: true });
    expect(await call(p, 'whoami')).to.include({ homeWritable: true });
  });

  it('kills a setsid grandchild when the session stops', async function () {
    const { manager } = start({ p: probeService() });
    const p = await manager.createClient('p', { initialize: true });
    const marker = `grandchild-${process.pid}-${Date.now()}`;
    await call(p, 'grandchild', { marker });
    const alive = () => suiteProcesses().filter((x) => x.cmdline.includes(marker));
    await waitFor(() => alive().length === 1, 5000, 'the grandchild to start');
    await p.stop();
    await waitFor(() => alive().length === 0, 5000, 'the grandchild to die with its session');
  });

  it('delivers the stop sequence SIGTERM to the server inside, not to bwrap', async function () {
    const config = serviceConfig(['node', FIXTURE_SERVER, '--ignore-eof', '--trap-sigterm']);
    const { manager } = start({ f: config });
    const f = await manager.createClient('f', { initialize: true });
    const exit = await f.stop();
    // The server saw SIGTERM and lived on until the SIGKILL step. Had bwrap got the SIGTERM, it
    // would have died of it and taken the server with it at once (signal SIGTERM, no trace).
    expect(exit.stderrTail).to.include('sigterm ignored');
    expect(exit).to.include({ signal: 'SIGKILL', requested: true });
  });
});

describe('sandbox isolation without bubblewrap (issue 11)', function () {
  const noBwrap = { ...hostInfo(), bwrap: undefined, bwrapProblem: 'bwrap not found' };

  it('falls back to "rlimits" with one start-up warning naming the package, shown in /health', async function () {
    const config = testConfig({ f: serviceConfig(['node', FIXTURE_SERVER]), g: probeService() });
    const logs = captureLogs();
    const relay = new Relay(config, { host: noBwrap, logger: logs.logger, stopGraceMs: 300 });
    try {
      await relay.start();
      const warnings = logs.lines().filter((l) => /bubblewrap/.test(String(l.msg)));
      expect(warnings).to.have.length(1);
      expect(warnings[0].msg).to.include('apt-get install bubblewrap');
      expect(warnings[0].services).to.deep.equal(['f', 'g']);
      const health = (await (await fetch(`${relay.url}/health`)).json()) as any;
      expect(health.services.f.isolation).to.equal('rlimits');
      const client = await relay.manager.createClient('f', { initialize: true });
      expect(textOf(await client.callTool('echo', { text: 'still works' }))).to.equal(
        'still works',
      );
    } finally {
      await relay.close();
      config.cleanup();
    }
  });

  it('probes bwrap once: missing, or present but not working, is a reason, not a level', function () {
    expect(probeBwrap(['/nonexistent/bwrap'])).to.deep.equal({ problem: 'bwrap not found' });
    expect(probeBwrap(['/bin/false']).problem).to.match(/^\/bin\/false does not work here: exit 1/);
  });

  it('refuses to start a relay whose service asks for "namespaces" explicitly', function () {
    const config = testConfig({ f: probeService({ isolation: 'namespaces' }) });
    try {
      expect(() => new Relay(config, { host: noBwrap })).to.throw(
        /services\.f\.sandbox needs isolation "namespaces".*apt-get install bubblewrap/,
      );
    } finally {
      config.cleanup();
    }
  });
});
