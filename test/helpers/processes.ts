// Finds processes started by the test suite (fixture servers, example servers, npm MCP servers,
// relays started from dist/) by reading /proc, so a root hook can prove none outlives its test.
import { readdirSync, readFileSync } from 'node:fs';

const MARKERS = [
  '/test/fixtures/',
  '/examples/servers/',
  '@modelcontextprotocol/server-',
  '/dist/cli.js',
  'supergateway',
];

export interface ProcInfo {
  pid: number;
  cmdline: string;
}

function readCmdline(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim();
  } catch {
    return undefined;
  }
}

function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return true;
  }
}

/** Live (non-zombie) processes whose command line names one of the suite's servers. */
export function suiteProcesses(): ProcInfo[] {
  const found: ProcInfo[] = [];
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    const cmdline = readCmdline(pid);
    if (cmdline === undefined || cmdline === '') continue;
    if (!MARKERS.some((m) => cmdline.includes(m))) continue;
    if (isZombie(pid)) continue;
    found.push({ pid, cmdline });
  }
  return found;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch {
    return false;
  }
  return !isZombie(pid);
}

/** Resolves once `predicate` is true, polling; rejects with `message` after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean,
  timeoutMs: number,
  message = 'condition not met',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (predicate()) return;
    if (Date.now() > deadline) throw new Error(`${message} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
