// Finds processes started by the test suite (fixture servers, example servers, npm MCP servers,
// relays started from dist/) by reading /proc, so a root hook can prove none outlives its test.
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

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

/** ppid and start time (clock ticks since boot) of a process, from /proc/<pid>/stat. */
function statOf(pid: number): { ppid: number; start: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { ppid: Number(fields[1]), start: Number(fields[19]) };
  } catch {
    return undefined;
  }
}

/** When this test process started, in the same clock ticks as /proc/<pid>/stat. */
const selfStart = statOf(process.pid)?.start ?? 0;

/**
 * True for processes this test run started: descendants of this process, or orphans (reparented
 * to init after their parent was killed) started after it. Other test runs on the machine are
 * left alone.
 */
function isOurs(pid: number): boolean {
  let current = pid;
  for (let depth = 0; depth < 32; depth++) {
    const stat = statOf(current);
    if (stat === undefined) return false;
    if (stat.ppid === process.pid) return true;
    if (stat.ppid <= 1) return statOf(pid)!.start >= selfStart && current === pid;
    current = stat.ppid;
  }
  return false;
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
    if (isZombie(pid) || !isOurs(pid)) continue;
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

/** argv[0] of the programs the sandbox wraps a server in. */
const WRAPPER = /(^|\/)(bwrap|setpriv|env|prlimit)$/;

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(' ')
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

/**
 * The server process itself below a client's pid: under isolation "namespaces" the client's pid is
 * bwrap's and the server runs two levels down. The first descendant (breadth first) that is not a
 * wrapper (bwrap, setpriv, env, prlimit), or `pid` itself.
 */
export function serverPidOf(pid: number): number {
  const queue = [pid];
  while (queue.length > 0) {
    const current = queue.shift()!;
    const argv0 = (readCmdline(current) ?? '').split(' ')[0] ?? '';
    if (!WRAPPER.test(argv0)) return current;
    queue.push(...childrenOf(current));
  }
  return pid;
}

/** The suite's server processes whose command line includes `marker`, wrappers left out. */
export function serverProcesses(marker: string): ProcInfo[] {
  return suiteProcesses().filter(
    (p) => p.cmdline.includes(marker) && !WRAPPER.test(p.cmdline.split(' ')[0] ?? ''),
  );
}

/**
 * The host pid of the suite's server whose working directory is `cwd` (its session directory, as
 * the fixture's `cwd` tool reports it). The fixture's `pid` tool cannot tell: in a PID namespace
 * of its own every server is pid 2.
 */
export function serverPidByCwd(cwd: string): number {
  const found = suiteProcesses().filter((p) => {
    if (WRAPPER.test(p.cmdline.split(' ')[0] ?? '')) return false;
    try {
      return readlinkSync(`/proc/${p.pid}/cwd`) === cwd;
    } catch {
      return false;
    }
  });
  if (found.length !== 1) throw new Error(`${found.length} servers run in ${cwd}`);
  return found[0]!.pid;
}
