// npm run bench [-- --json] [-- --profile] [-- --duration S] [-- --warmup S] [-- --repeat N]
//                [-- --write-per-message] [-- --only-http] [-- --only-cpu] [-- --only-start]
//
// In one run, the same pipelined `tools/call echo` load against the same fixture echo server
// (test/fixtures/server.mjs), four ways: directly over stdio (the limit), through the relay's
// /mcp/{service} and /ws (dist/cli.js, sandbox on, default limits), and through supergateway 4
// (--outputTransport ws, one shared server process); each with 1 and 32 requests in flight on
// one connection. Then the relay's resident memory per open session, with 200 sessions.
// --json prints one JSON object instead of the table. --profile also runs a relay under
// --cpu-prof while /mcp is driven at 32 in flight, and prints its top self-time functions.
// --repeat N measures every cell N times and keeps the fastest (noise on a shared machine only
// ever slows a run down). The generator coalesces the messages one event-loop turn sends into one
// write on every path (still one frame or line each); --write-per-message makes it write each
// message on its own, as a naive client does, which costs the shared CPU far more.
// CPU per request: at 32 in flight, on /mcp, /ws and supergateway, with either generator (always
// both, whatever --write-per-message says), the CPU each process spends per request over the
// measured window, from /proc (relay or supergateway; their servers; this generator).
// Then the REST path at 8 and 32 clients with the servers at the relay's own CPU priority and at
// the default lower one (sandbox.nice/sched); --only-priority runs just that comparison.
// Streamable HTTP (scripts/bench/http-bench.ts): the relay's POST /mcp/echo and supergateway
// --outputTransport streamableHttp --stateful (one server per session, as the relay), each at 1 and
// 32 in flight on one session and CPU per request at 32, driven by `loadtest --mode http`'s engine;
// a relay without the endpoint is reported as not measured. --only-http runs just that part.
// Session start (scripts/bench/start-bench.ts): open → initialize answered over /mcp with and
// without a warm spare, beside the server's own initialize; --only-start runs just that.
// --only-cpu measures just the CPU per request: the relay on /mcp and /ws (each on its own relay;
// with --profile each runs under --cpu-prof and its top self-time functions are printed), then
// supergateway and scripts/bench/min-relay.mjs (the least a Node relay can do) the same way.
// Everything it starts is stopped on exit, on error and on Ctrl-C. Never part of `npm test`.

import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { WebSocket } from 'ws';
import { formatProfile, summariseProfile, type CpuProfile } from './bench/cpuprofile.js';
import {
  benchTable,
  benchTargets,
  memoryTarget,
  restTable,
  restTargets,
  cpuTable,
  cpuTargets,
  type CpuCell,
  type CpuPathName,
  type CpuResults,
  type BenchCell,
  type BenchPath,
  type BenchResults,
} from './bench/bench-report.js';
import { runLoad, type LoadSpec, type Target } from '../src/loadtest/engine.js';
import { measureRest } from './bench/rest-bench.js';
import { shebangNodeFlags } from './bench/relay-flags.js';
import { median } from './bench/rest-load.js';
import { descendantTicks, microsPerRequest, ownTicks } from './bench/proc-cpu.js';
import {
  measureFloor,
  measurePriority,
  priorityTable,
  type PriorityRow,
} from './bench/priority-bench.js';
import { measureStart, startTable, type StartRow } from './bench/start-bench.js';
import { measureGatewayHttp, measureRelayHttp } from './bench/http-bench.js';
import { httpTable, type HttpResults } from './bench/http-report.js';

const ROOT = resolve(import.meta.dirname, '..');
const FIXTURE = join(ROOT, 'test/fixtures/server.mjs');
const RELAY = join(ROOT, 'dist/cli.js');
/** The Node flags the mcpmux command runs with (its shebang): the bench runs the same relay. */
const RELAY_NODE_FLAGS = shebangNodeFlags(readFileSync(RELAY, 'utf8').split('\n', 1)[0]!);
const SUPERGATEWAY = join(ROOT, 'node_modules/supergateway/dist/index.js');
const MIN_RELAY = join(ROOT, 'scripts/bench/min-relay.mjs');
const STOP_WAIT_MS = 10_000;
const READY_WAIT_MS = 15_000;

// --- the processes the bench starts: each tracked, each stopped on exit -----------------------

const running = new Set<() => Promise<void>>();
/** Temporary directories still to remove (configs, sandboxes, profiles). */
const tempDirs = new Set<string>();

function removeTempDirs(): void {
  for (const dir of tempDirs) rmSync(dir, { recursive: true, force: true });
  tempDirs.clear();
}
process.once('exit', removeTempDirs);

/** Tracks `child`; the returned stop() sends SIGTERM (to its group if `group`), then SIGKILL. */
function track(child: ChildProcess, group: boolean): () => Promise<void> {
  const exited = once(child, 'exit').then(() => undefined);
  child.on('error', () => undefined);
  const signal = (sig: NodeJS.Signals) => {
    try {
      if (group && child.pid !== undefined) process.kill(-child.pid, sig);
      else child.kill(sig);
    } catch {
      // already gone
    }
  };
  let stopping: Promise<void> | undefined;
  const stop = () =>
    (stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        signal('SIGTERM');
        const timer = setTimeout(() => signal('SIGKILL'), STOP_WAIT_MS);
        await exited;
        clearTimeout(timer);
      }
      running.delete(stop);
    })());
  running.add(stop);
  process.once('exit', () => {
    if (child.exitCode === null && child.signalCode === null) signal('SIGKILL');
  });
  return stop;
}

async function stopAll(): Promise<void> {
  await Promise.all([...running].map((stop) => stop()));
  removeTempDirs();
}

/** Resolves when `ready` returns a value, under a deadline, failing early if `child` exits. */
async function until<T>(what: string, child: ChildProcess, ready: () => Promise<T | undefined>) {
  const deadline = Date.now() + READY_WAIT_MS;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`${what} exited`);
    const value = await ready();
    if (value !== undefined) return value;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`${what} not ready within ${READY_WAIT_MS} ms`);
}

interface RelayProcess {
  wsUrl: string;
  httpUrl: string;
  pid: number;
  dir: string;
  stop(): Promise<void>;
}

/**
 * dist/cli.js, with the Node flags of its shebang, and a temp config: service echo = the fixture,
 * sandbox on with default limits.
 */
async function startRelay(options: {
  cpuProf?: boolean;
  priority?: { nice: number; sched: string };
  /** Adds service `spare`: echo's server with this many warm spares. */
  spares?: number;
}): Promise<RelayProcess> {
  const dir = mkdtempSync(join(tmpdir(), 'mcpmux-bench-'));
  tempDirs.add(dir);
  const config = {
    server: { host: '127.0.0.1', port: 0 },
    session: {
      sandbox_dir: join(dir, 'sandbox'),
      max_sessions_per_service: 300,
      max_total_sessions: 400,
    },
    services: {
      echo: {
        command: [process.execPath, FIXTURE],
        concurrency: 64,
        queue_limit: 100_000,
        sandbox: { enabled: true, ...options.priority },
      },
      ...(options.spares !== undefined && {
        spare: { command: [process.execPath, FIXTURE], warm_spares: options.spares },
      }),
    },
    logging: { level: 'info' },
  };
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  const prof =
    options.cpuProf === true ? ['--cpu-prof', `--cpu-prof-dir=${join(dir, 'prof')}`] : [];
  const args = [
    ...RELAY_NODE_FLAGS,
    ...prof,
    RELAY,
    '--config',
    join(dir, 'config.json'),
    '--port',
    '0',
  ];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'inherit'] });
  const stop = track(child, false);
  let url: string | undefined;
  createInterface({ input: child.stdout }).on('line', (line) => {
    if (url !== undefined) return;
    try {
      const entry = JSON.parse(line) as { msg?: string; url?: string };
      if (entry.msg === 'listening') url = entry.url;
    } catch {
      // not a log line
    }
  });
  const httpUrl = await until('relay', child, () => Promise.resolve(url));
  return {
    httpUrl,
    wsUrl: httpUrl.replace(/^http/, 'ws'),
    pid: child.pid!,
    dir,
    stop: async () => {
      await stop();
      if (options.cpuProf === true) return; // readProfile() reads, then removes it
      rmSync(dir, { recursive: true, force: true });
      tempDirs.delete(dir);
    },
  };
}

function freePort(): Promise<number> {
  return new Promise((resolvePort, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolvePort(port));
    });
  });
}

/**
 * supergateway --stdio "<node> fixture" --outputTransport ws (or streamableHttp --stateful: one
 * server process per session, as the relay), quiet, on a free port.
 */
async function startSupergateway(
  output: 'ws' | 'streamableHttp' = 'ws',
): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort();
  const args = [SUPERGATEWAY, '--stdio', `${process.execPath} ${FIXTURE}`];
  args.push('--outputTransport', output, '--port', String(port), '--logLevel', 'none');
  if (output === 'streamableHttp') args.push('--stateful', '--healthEndpoint', '/healthz');
  // stdin stays open: supergateway exits when it closes. Its own group, so a stop reaches it all.
  const child = spawn(process.execPath, args, {
    stdio: ['pipe', 'ignore', 'inherit'],
    detached: true,
  });
  const stop = track(child, true);
  if (output === 'streamableHttp') {
    const base = `http://127.0.0.1:${port}`;
    await until('supergateway', child, () =>
      fetch(`${base}/healthz`).then(
        (r) => (r.ok ? true : undefined),
        () => undefined,
      ),
    );
    return { url: `${base}/mcp`, pid: child.pid!, stop };
  }
  return { ...(await wsReady('supergateway', child, `ws://127.0.0.1:${port}/message`)), stop };
}

/** scripts/bench/min-relay.mjs (the least a Node relay can do) with the fixture, on a free port. */
async function startMinRelay(): Promise<{ url: string; pid: number; stop(): Promise<void> }> {
  const port = await freePort();
  const args = [MIN_RELAY, String(port), process.execPath, FIXTURE];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
  const stop = track(child, false);
  return { ...(await wsReady('min-relay', child, `ws://127.0.0.1:${port}/`)), stop };
}

/** Resolves once a WebSocket to `wsUrl` opens (the server `child` is up). */
async function wsReady(what: string, child: ChildProcess, wsUrl: string) {
  await until(what, child, async () => {
    const ws = new WebSocket(wsUrl);
    const ok = await new Promise<boolean>((resolveOk) => {
      ws.once('open', () => resolveOk(true));
      ws.once('error', () => resolveOk(false));
    });
    ws.terminate();
    return ok ? true : undefined;
  });
  return { url: wsUrl, pid: child.pid! };
}

/** A /mcp session, initialized and warm (one echo call answered). */
async function openSession(url: string): Promise<WebSocket> {
  const ws = new WebSocket(url, ['mcp'], { perMessageDeflate: false });
  ws.on('error', () => undefined);
  const timer = setTimeout(() => ws.terminate(), READY_WAIT_MS);
  const answered = async (id: number) => {
    for (;;) {
      const [data] = (await once(ws, 'message')) as [Buffer];
      if ((JSON.parse(data.toString()) as { id?: unknown }).id === id) return;
    }
  };
  try {
    await once(ws, 'open');
    const init = {
      protocolVersion: '2025-11-25',
      capabilities: {},
      clientInfo: { name: 'b', version: '1' },
    };
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: init }));
    await answered(0);
    ws.send('{"jsonrpc":"2.0","method":"notifications/initialized"}');
    const call = { name: 'echo', arguments: { text: 'hi' } };
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: call }));
    await answered(1);
    return ws;
  } finally {
    clearTimeout(timer);
  }
}

/** The relay process's own resident memory (VmRSS), median of five reads, in KiB. */
async function rssKb(pid: number): Promise<number> {
  const reads: number[] = [];
  for (let i = 0; i < 5; i++) {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    reads.push(Number(/^VmRSS:\s+(\d+)/m.exec(status)?.[1] ?? NaN));
    await new Promise((r) => setTimeout(r, 100));
  }
  return median(reads);
}

/** Opens `count` sessions on a fresh relay; its RSS growth per session (servers excluded). */
async function measureSessionMemory(count: number) {
  const relay = await startRelay({});
  const sockets: WebSocket[] = [];
  try {
    const url = `${relay.wsUrl}/mcp/echo`;
    const warm = await openSession(url); // the code paths loaded, then the baseline
    warm.close(1000);
    await once(warm, 'close');
    const before = await rssKb(relay.pid);
    while (sockets.length < count) {
      const batch = Math.min(10, count - sockets.length);
      sockets.push(...(await Promise.all(Array.from({ length: batch }, () => openSession(url)))));
    }
    const after = await rssKb(relay.pid);
    return {
      sessions: count,
      rss_before_kb: before,
      rss_after_kb: after,
      rss_per_session_kb: Math.round(((after - before) / count) * 10) / 10,
    };
  } finally {
    for (const ws of sockets) ws.terminate();
    await relay.stop();
  }
}

function readProfile(dir: string): CpuProfile {
  const file = readdirSync(join(dir, 'prof')).find((f) => f.endsWith('.cpuprofile'));
  if (file === undefined) throw new Error(`no .cpuprofile in ${dir}/prof`);
  const profile = JSON.parse(readFileSync(join(dir, 'prof', file), 'utf8')) as CpuProfile;
  rmSync(dir, { recursive: true, force: true });
  tempDirs.delete(dir);
  return profile;
}

// --- measuring --------------------------------------------------------------------------------

const { values: flags } = parseArgs({
  options: {
    json: { type: 'boolean' },
    profile: { type: 'boolean' },
    duration: { type: 'string', default: '3' },
    warmup: { type: 'string', default: '0.5' },
    repeat: { type: 'string', default: '1' },
    'write-per-message': { type: 'boolean' },
    'only-priority': { type: 'boolean' },
    'only-http': { type: 'boolean' },
    'only-cpu': { type: 'boolean' },
    'only-start': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  },
});
const durationMs = Number(flags.duration) * 1000;
const warmupMs = Number(flags.warmup) * 1000;
const repeat = Number(flags.repeat);
const writePerMessage = flags['write-per-message'] === true;
const log = (line: string) => process.stderr.write(line + '\n');

async function measureOnce(target: Target, inFlight: number): Promise<BenchCell> {
  const spec: LoadSpec = {
    target,
    connections: 1,
    channels: 1,
    inFlight,
    durationMs,
    warmupMs,
    method: 'tools/call',
    params: { name: 'echo', arguments: { text: 'hello, mcpmux' } },
    timeoutMs: 10_000,
    connectTimeoutMs: 15_000,
    headers: {},
    writePerMessage,
  };
  const r = await runLoad(spec);
  if (r.errorCount > 0 || r.ok === 0) {
    const errors = JSON.stringify(r.errors);
    throw new Error(`${target.mode} w${inFlight}: ${r.ok} ok, ${r.errorCount} errors ${errors}`);
  }
  const cell = {
    rps: Math.round(r.rps),
    p50_ms: round(r.latencyMs.p50),
    p99_ms: round(r.latencyMs.p99),
  };
  log(`  ${target.mode.padEnd(6)} w${String(inFlight).padEnd(3)} ${JSON.stringify(cell)}`);
  return cell;
}

/** The fastest of `repeat` runs (its own rps, p50 and p99). */
async function measure(target: Target, inFlight: number): Promise<BenchCell> {
  let best: BenchCell | undefined;
  for (let i = 0; i < repeat; i++) {
    const cell = await measureOnce(target, inFlight);
    if (best === undefined || cell.rps > best.rps) best = cell;
  }
  return best!;
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/**
 * CPU per request of `relayPid` (the relay or supergateway), its descendants (the servers) and
 * this generator, at 32 in flight, read from /proc when the measured window starts and ends.
 */
async function measureCpuOnce(target: Target, relayPid: number, perMessage: boolean) {
  const read = () => ({
    relay: ownTicks(relayPid),
    server: descendantTicks(relayPid),
    generator: ownTicks(process.pid),
  });
  type Mark = { ticks: ReturnType<typeof read>; ok: number };
  let start: Mark | undefined;
  let end: Mark | undefined;
  const spec: LoadSpec = {
    target,
    connections: 1,
    channels: 1,
    inFlight: 32,
    durationMs,
    warmupMs: Math.max(warmupMs, 100),
    method: 'tools/call',
    params: { name: 'echo', arguments: { text: 'hello, mcpmux' } },
    timeoutMs: 10_000,
    connectTimeoutMs: 15_000,
    headers: {},
    writePerMessage: perMessage,
  };
  const r = await runLoad(spec, {
    progressIntervalMs: 1,
    onProgress: (p) => {
      if (p.phase === 'measuring' && start === undefined) start = { ticks: read(), ok: p.ok };
      if (p.phase === 'draining' && start !== undefined && end === undefined)
        end = { ticks: read(), ok: p.ok };
    },
  });
  if (r.errorCount > 0 || start === undefined || end === undefined) {
    throw new Error(`cpu ${target.mode}: ${r.ok} ok, ${r.errorCount} errors, window not seen`);
  }
  const requests = end.ok - start.ok;
  const per = (k: 'relay' | 'server' | 'generator') =>
    Math.round(microsPerRequest(end!.ticks[k] - start!.ticks[k], requests) * 10) / 10;
  const cell: CpuCell = {
    relay: per('relay'),
    server: per('server'),
    generator: per('generator'),
    requests,
  };
  const writes =
    target.mode === 'http' ? 'POST each  ' : perMessage ? 'per-message' : 'coalesced  ';
  log(`  cpu ${target.mode.padEnd(6)} ${writes} ${JSON.stringify(cell)}`);
  return cell;
}

/** The run with the lowest relay CPU of `repeat` (noise on a shared machine only adds CPU). */
async function measureCpu(target: Target, relayPid: number, perMessage: boolean) {
  let best: CpuCell | undefined;
  for (let i = 0; i < repeat; i++) {
    const cell = await measureCpuOnce(target, relayPid, perMessage);
    if (best === undefined || cell.relay < best.relay) best = cell;
  }
  return best!;
}

async function measurePath(target: Target): Promise<BenchPath> {
  return { w1: await measure(target, 1), w32: await measure(target, 32) };
}

const httpDeps = {
  measurePath,
  measureCpu: (t: Target, pid: number) => measureCpu(t, pid, false),
  startGateway: () => startSupergateway('streamableHttp'),
  log,
};

async function main(): Promise<void> {
  if (flags.help === true) {
    process.stdout.write(readFileSync(import.meta.filename, 'utf8').split('\n\n')[0]! + '\n');
    return;
  }
  if (!(durationMs > 0 && warmupMs >= 0 && Number.isInteger(repeat) && repeat >= 1)) {
    throw new Error('--duration must be > 0, --warmup >= 0, --repeat a positive integer');
  }
  const machine = {
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    cores: cpus().length,
    node: process.version,
  };
  log(
    `bench: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}; ${durationMs / 1000} s per cell after ${warmupMs / 1000} s warm-up`,
  );
  if (flags['only-http'] === true) {
    const relay = await startRelay({});
    const http = {
      relay: await measureRelayHttp(relay.httpUrl, relay.pid, httpDeps),
    } as HttpResults;
    await relay.stop();
    http.supergateway = await measureGatewayHttp(httpDeps);
    const head = `machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`;
    process.stdout.write(
      flags.json === true
        ? JSON.stringify({ http, machine }) + '\n'
        : `${head}\nload: tools/call echo, ${durationMs / 1000} s per cell after ` +
            `${warmupMs / 1000} s warm-up, best of ${repeat}\n\n${httpTable(http)}\n`,
    );
    return;
  }
  if (flags['only-cpu'] === true) {
    await onlyCpu();
    return;
  }
  const start = await measureStartCells();
  if (flags['only-start'] === true) {
    process.stdout.write(
      flags.json === true
        ? JSON.stringify({ start, machine }) + '\n'
        : `machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}\n\n${startTable(start)}\n`,
    );
    return;
  }
  const priority: PriorityRow[] = [];
  for (const [label, p] of [
    ['relay priority (nice 0, other)', { nice: 0, sched: 'other' }],
    ['default (nice 5, batch)', undefined],
  ] as const) {
    const r = await startRelay(p === undefined ? {} : { priority: p });
    priority.push(
      await measurePriority(label, r.httpUrl, { durationMs, warmupMs, repeat, log, pid: r.pid }),
    );
    await r.stop();
  }
  const floor = await measureFloor([process.execPath, FIXTURE], {
    durationMs,
    warmupMs,
    repeat,
    log,
  });
  if (flags['only-priority'] === true) {
    process.stdout.write(
      flags.json === true
        ? JSON.stringify({ priority, floor, machine }) + '\n'
        : `machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}\n\n${priorityTable(priority, floor)}\n`,
    );
    return;
  }
  const results = {} as BenchResults;

  results.direct = await measurePath({ mode: 'stdio', command: [process.execPath, FIXTURE] });
  const relay = await startRelay({});
  results.mcp = await measurePath({ mode: 'mcp', url: `${relay.wsUrl}/mcp/echo` });
  results.ws = await measurePath({ mode: 'ws', url: `${relay.wsUrl}/ws`, service: 'echo' });
  const cpu = { coalesced: {}, per_message: {} } as CpuResults;
  const cpuCells = async (path: CpuPathName, target: Target, pid: number) => {
    cpu.coalesced[path] = await measureCpu(target, pid, false);
    cpu.per_message[path] = await measureCpu(target, pid, true);
  };
  // /mcp and /ws take turns, each repeat and each generator, so a change in the shared machine's
  // load during the run falls on both rather than on whichever path was measured second.
  for (let i = 0; i < repeat; i++) {
    for (const writes of ['coalesced', 'per_message'] as const) {
      for (const [path, target] of [
        ['mcp', { mode: 'mcp', url: `${relay.wsUrl}/mcp/echo` }],
        ['ws', { mode: 'ws', url: `${relay.wsUrl}/ws`, service: 'echo' }],
      ] as const) {
        const cell = await measureCpuOnce(target, relay.pid, writes === 'per_message');
        const best = cpu[writes][path] as CpuCell | undefined;
        if (best === undefined || cell.relay < best.relay) cpu[writes][path] = cell;
      }
    }
  }
  const rest = await measureRest(relay.httpUrl, {
    durationMs,
    warmupMs,
    repeat,
    serverCommand: [process.execPath, FIXTURE],
    log,
  });
  const http = { relay: await measureRelayHttp(relay.httpUrl, relay.pid, httpDeps) } as HttpResults;
  await relay.stop();
  const gateway = await startSupergateway();
  results.supergateway = await measurePath({ mode: 'raw', url: gateway.url });
  await cpuCells('supergateway', { mode: 'raw', url: gateway.url }, gateway.pid);
  await gateway.stop();
  http.supergateway = await measureGatewayHttp(httpDeps);

  log('memory: opening 200 sessions on a fresh relay');
  const memory = await measureSessionMemory(200);

  let profile: string | undefined;
  if (flags.profile === true) {
    log('profile: /mcp at 32 in flight under --cpu-prof');
    const profiled = await startRelay({ cpuProf: true });
    await measure({ mode: 'mcp', url: `${profiled.wsUrl}/mcp/echo` }, 32);
    await profiled.stop();
    profile = formatProfile(summariseProfile(readProfile(profiled.dir), 25));
  }

  if (flags.json === true) {
    const load = {
      duration_s: durationMs / 1000,
      warmup_s: warmupMs / 1000,
      repeat,
      writes: writePerMessage ? 'per_message' : 'coalesced',
    };
    process.stdout.write(
      JSON.stringify({
        ...results,
        cpu,
        http,
        rest,
        priority,
        floor,
        start,
        memory,
        machine,
        load,
      }) + '\n',
    );
  } else {
    process.stdout.write(
      [
        `machine: ${machine.cpu}, ${machine.cores} cores, Node ${machine.node}`,
        `load: tools/call echo, 1 connection, ${durationMs / 1000} s per cell after ` +
          `${warmupMs / 1000} s warm-up, best of ${repeat}, ` +
          (writePerMessage ? 'one write per message' : 'writes coalesced per turn'),
        '',
        benchTable(results),
        '',
        cpuTable(cpu),
        '',
        httpTable(http),
        '',
        `relay memory: ${memory.sessions} sessions, ${memory.rss_per_session_kb} KB RSS per session ` +
          `(${memory.rss_before_kb} KB → ${memory.rss_after_kb} KB; target < 50 KB)`,
        '',
        restTable(rest),
        '',
        priorityTable(priority, floor),
        '',
        startTable(start),
        '',
        benchTargets(results),
        cpuTargets(cpu),
        memoryTarget(memory.rss_per_session_kb),
        restTargets(rest),
        '',
      ].join('\n'),
    );
  }
  if (profile !== undefined)
    (flags.json === true ? process.stderr : process.stdout).write(profile + '\n');
}

/** Session start with and without a warm spare (scripts/bench/start-bench.ts), on one relay. */
async function measureStartCells(): Promise<StartRow> {
  const relay = await startRelay({ spares: 1 });
  try {
    // No session left open and the spare ready: each open is measured on a quiet relay.
    const settled = async () => {
      const deadline = Date.now() + READY_WAIT_MS;
      while (Date.now() < deadline) {
        const r = await fetch(`${relay.httpUrl}/health`);
        const { services } = (await r.json()) as {
          services: Record<string, { sessions?: number; spares?: number }>;
        };
        const { echo, spare } = services;
        if (echo?.sessions === 0 && spare?.sessions === 0 && spare.spares === 1) return;
        await new Promise((r) => setTimeout(r, 10));
      }
      throw new Error(`the relay did not settle within ${READY_WAIT_MS} ms`);
    };
    return await measureStart({
      connectUrl: `${relay.wsUrl}/ws`,
      spawnUrl: `${relay.wsUrl}/mcp/echo`,
      spareUrl: `${relay.wsUrl}/mcp/spare`,
      settled,
      serverCommand: [process.execPath, FIXTURE],
      samples: 7 * repeat,
      log,
    });
  } finally {
    await relay.stop();
  }
}

/**
 * --only-cpu: the relay's CPU per request on /mcp and /ws, each path on a fresh relay; then
 * supergateway's and scripts/bench/min-relay.mjs's, the same way.
 */
async function onlyCpu(): Promise<void> {
  const cpuProf = flags.profile === true;
  for (const mode of ['mcp', 'ws'] as const) {
    const relay = await startRelay({ cpuProf });
    const target: Target =
      mode === 'mcp'
        ? { mode, url: `${relay.wsUrl}/mcp/echo` }
        : { mode, url: `${relay.wsUrl}/ws`, service: 'echo' };
    const cells = [
      await measureCpu(target, relay.pid, false),
      await measureCpu(target, relay.pid, true),
    ];
    await relay.stop();
    const rows = cells.map(
      (c, i) => `${mode} ${i === 0 ? 'coalesced  ' : 'per message'} ${JSON.stringify(c)}`,
    );
    process.stdout.write(rows.join('\n') + '\n');
    if (cpuProf)
      process.stdout.write(formatProfile(summariseProfile(readProfile(relay.dir), 30)) + '\n');
  }
  // The references, measured the same way: supergateway and the least a Node relay can do.
  for (const [name, start] of [
    ['supergateway', () => startSupergateway()],
    ['min-relay', startMinRelay],
  ] as const) {
    const ref = await start();
    const target: Target = { mode: 'raw', url: ref.url };
    const cells = [
      await measureCpu(target, ref.pid, false),
      await measureCpu(target, ref.pid, true),
    ];
    await ref.stop();
    const rows = cells.map(
      (c, i) => `${name} ${i === 0 ? 'coalesced  ' : 'per message'} ${JSON.stringify(c)}`,
    );
    process.stdout.write(rows.join('\n') + '\n');
  }
}

const onSignal = () => {
  void stopAll().finally(() => process.exit(130));
};
process.once('SIGINT', onSignal);
process.once('SIGTERM', onSignal);
main()
  .catch((err: unknown) => {
    process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = 1;
  })
  .finally(() => stopAll());
