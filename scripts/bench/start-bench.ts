// The bench's session-start cells (issue 14, docs/operations.md "Warm spares"): open → `initialize`
// answered over /mcp/{service}, on a relay whose service keeps a warm spare and on one that spawns
// on open; beside them the server's own `initialize` time (the fixture spawned directly, booted
// and pinged first, as a spare is), which is the floor a session on a spare can reach. Used by
// scripts/bench.ts.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { performance } from 'node:perf_hooks';
import { createInterface } from 'node:readline';
import { WebSocket } from 'ws';
import { median } from './rest-load.js';

export interface StartRow {
  /** Median ms of a WebSocket handshake alone (/ws: no session opens). */
  connect_ms: number;
  /** Median ms, open → initialize answered, spawned on open. */
  spawn_ms: number;
  /** Median ms, the same with a warm spare ready. */
  spare_ms: number;
  /** Median ms, the server's own initialize (the fixture booted and pinged, no relay). */
  server_initialize_ms: number;
  samples: number;
}

const INITIALIZE = {
  protocolVersion: '2025-11-25',
  capabilities: {},
  clientInfo: { name: 'bench', version: '1' },
};
const ANSWER_WAIT_MS = 15_000;
const round2 = (x: number) => Math.round(x * 100) / 100;

/** ms from `new WebSocket` to the initialize answer; the socket is then closed (session ends). */
export async function timeOpen(url: string): Promise<number> {
  const t0 = performance.now();
  const ws = new WebSocket(url, ['mcp'], { perMessageDeflate: false });
  ws.on('error', () => undefined);
  const timer = setTimeout(() => ws.terminate(), ANSWER_WAIT_MS);
  try {
    await once(ws, 'open');
    ws.send(JSON.stringify({ jsonrpc: '2.0', id: 0, method: 'initialize', params: INITIALIZE }));
    for (;;) {
      const [data] = (await once(ws, 'message')) as [Buffer];
      if ((JSON.parse(data.toString()) as { id?: unknown }).id === 0) break;
    }
    return performance.now() - t0;
  } finally {
    clearTimeout(timer);
    ws.close(1000);
    if (ws.readyState !== ws.CLOSED) await once(ws, 'close');
  }
}

/** The server's own initialize: `command` spawned, pinged until booted, then initialize timed. */
export async function timeServerInitialize(command: string[]): Promise<number> {
  const child = spawn(command[0]!, command.slice(1), { stdio: ['pipe', 'pipe', 'ignore'] });
  const exited = once(child, 'exit');
  const timer = setTimeout(() => child.kill('SIGKILL'), ANSWER_WAIT_MS);
  const lines = createInterface({ input: child.stdout });
  const waiting = new Map<number, () => void>();
  lines.on('line', (line) => {
    try {
      waiting.get((JSON.parse(line) as { id: number }).id)?.();
    } catch {
      // not ours
    }
  });
  const ask = (id: number, method: string, params?: unknown) =>
    new Promise<void>((resolve, reject) => {
      waiting.set(id, resolve);
      void exited.then(() => reject(new Error('the server exited')));
      child.stdin.write(JSON.stringify({ jsonrpc: '2.0', id, method, params }) + '\n');
    });
  try {
    await ask(1, 'ping');
    const t0 = performance.now();
    await ask(2, 'initialize', INITIALIZE);
    return performance.now() - t0;
  } finally {
    clearTimeout(timer);
    child.stdin.end();
    child.kill();
    await exited;
  }
}

/** ms from `new WebSocket` to 'open' on a path that opens no session (`/ws`): the handshake alone. */
export async function timeConnect(url: string): Promise<number> {
  const t0 = performance.now();
  const ws = new WebSocket(url, { perMessageDeflate: false });
  ws.on('error', () => undefined);
  const timer = setTimeout(() => ws.terminate(), ANSWER_WAIT_MS);
  try {
    await once(ws, 'open');
    return performance.now() - t0;
  } finally {
    clearTimeout(timer);
    ws.close(1000);
    if (ws.readyState !== ws.CLOSED) await once(ws, 'close');
  }
}

/**
 * `samples` rounds of: a bare WebSocket handshake, an open on the service that spawns, an open on
 * the one with a warm spare, and a direct initialize of `serverCommand`; each measured once the
 * relay is `settled` (no session left, the spare ready again); medians.
 */
export async function measureStart(o: {
  connectUrl: string;
  spawnUrl: string;
  spareUrl: string;
  settled: () => Promise<void>;
  serverCommand: string[];
  samples: number;
  log: (line: string) => void;
}): Promise<StartRow> {
  const connect: number[] = [];
  const spawned: number[] = [];
  const spared: number[] = [];
  const own: number[] = [];
  for (let i = 0; i < o.samples; i++) {
    await o.settled();
    connect.push(await timeConnect(o.connectUrl));
    await o.settled();
    spawned.push(await timeOpen(o.spawnUrl));
    await o.settled();
    spared.push(await timeOpen(o.spareUrl));
    own.push(await timeServerInitialize(o.serverCommand));
  }
  const row = {
    connect_ms: round2(median(connect)),
    spawn_ms: round2(median(spawned)),
    spare_ms: round2(median(spared)),
    server_initialize_ms: round2(median(own)),
    samples: o.samples,
  };
  o.log(`  start  ${JSON.stringify(row)} spare samples ${spared.map(round2).join(', ')}`);
  return row;
}

/**
 * The start cells as table lines, with issue 14's target: a session on a spare answers within
 * 5 ms plus the server's own initialize, counted after the WebSocket handshake (which any
 * WebSocket server costs, session or not).
 */
export function startTable(row: StartRow): string {
  const relayPart = row.spare_ms - row.connect_ms;
  const met = relayPart <= 5 + row.server_initialize_ms;
  return [
    `session start over /mcp, median of ${row.samples} (ms)`,
    `  WebSocket handshake alone (/ws, no session)   ${row.connect_ms.toFixed(2).padStart(8)}`,
    `  open → initialize answered, spawned on open   ${row.spawn_ms.toFixed(2).padStart(8)}`,
    `  open → initialize answered, warm spare ready  ${row.spare_ms.toFixed(2).padStart(8)}`,
    `  the server's own initialize (no relay)        ${row.server_initialize_ms.toFixed(2).padStart(8)}`,
    `  target: spare minus handshake (${relayPart.toFixed(2)}) <= 5 + the server's own: ` +
      (met ? 'met' : 'MISSED'),
  ].join('\n');
}
