// Root hooks for every test file: Node 20 gets a global WebSocket (for the SDK's
// WebSocketClientTransport); after each test no process started by the suite may be alive, and
// the process must not have emitted uncaughtException or unhandledRejection (no input may end the
// relay: in production either one is the end of the process).
import { WebSocket } from 'ws';
import { suiteProcesses, waitFor } from './processes.js';

/**
 * Faults the process reported since the last check. Our own listeners see every one: mocha fails
 * the running test on an uncaughtException, but it swallows an unhandledRejection that does not
 * come from mocha itself (it re-emits it with its own listener removed, and with no listener left
 * Node does nothing), so without these a rejection nobody handles would pass unnoticed.
 */
const faults: string[] = [];
const seenRejections = new WeakSet<Promise<unknown>>();

const describeFault = (what: string, err: unknown) =>
  `${what}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`;

process.on('uncaughtException', (err) => faults.push(describeFault('uncaughtException', err)));
process.on('unhandledRejection', (reason, promise) => {
  if (seenRejections.has(promise)) return; // mocha re-emits it once more
  seenRejections.add(promise);
  faults.push(describeFault('unhandledRejection', reason));
});

/** Throws when the process reported a fault since the last call. */
export function checkProcessFaults(): void {
  if (faults.length === 0) return;
  const found = faults.splice(0);
  throw new Error(`the process emitted ${found.length} fault(s):\n${found.join('\n')}`);
}

const g = globalThis as { WebSocket?: unknown };
g.WebSocket ??= WebSocket;

/** Processes that were already running before the suite started (say, a relay started by hand). */
const preexisting = new Set<number>();

export const mochaHooks = {
  beforeAll(): void {
    for (const p of suiteProcesses()) preexisting.add(p.pid);
  },
  async afterEach(this: Mocha.Context): Promise<void> {
    checkProcessFaults();
    const leftovers = () => suiteProcesses().filter((p) => !preexisting.has(p.pid));
    try {
      await waitFor(() => leftovers().length === 0, 5000, 'suite processes to exit');
    } catch {
      const alive = leftovers();
      for (const p of alive) {
        try {
          process.kill(p.pid, 'SIGKILL');
        } catch {
          // already gone
        }
      }
      throw new Error(
        `test left processes alive: ${alive.map((p) => `${p.pid} ${p.cmdline}`).join('; ')}`,
      );
    }
  },
  afterAll(): void {
    checkProcessFaults(); // a fault after the last test's check
  },
};
