// Root hooks for every test file: Node 20 gets a global WebSocket (for the SDK's
// WebSocketClientTransport), and after each test no process started by the suite may be alive.
import { WebSocket } from 'ws';
import { suiteProcesses, waitFor } from './processes.js';

const g = globalThis as { WebSocket?: unknown };
g.WebSocket ??= WebSocket;

/** Processes that were already running before the suite started (say, a relay started by hand). */
const preexisting = new Set<number>();

export const mochaHooks = {
  beforeAll(): void {
    for (const p of suiteProcesses()) preexisting.add(p.pid);
  },
  async afterEach(this: Mocha.Context): Promise<void> {
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
};
