import { readFileSync } from 'node:fs';
import { expect } from 'chai';
import { MCPManager } from '../../src/sessions/mcp-manager.js';
import { fixtureService, testConfig } from '../helpers/config.js';
import { serverPidOf } from '../helpers/processes.js';

/** nice (field 19) and scheduling policy (field 41) of a process, from /proc/<pid>/stat. */
function priorityOf(pid: number): { nice: number; policy: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' '); // fields[0] is field 3
  return { nice: Number(fields[19 - 3]), policy: Number(fields[41 - 3]) };
}

const SCHED_OTHER = 0;
const SCHED_BATCH = 3;
const SCHED_IDLE = 5;

describe('server CPU priority (sandbox.nice, sandbox.sched)', function () {
  let manager: MCPManager | undefined;
  let cleanup: (() => void) | undefined;

  afterEach(async () => {
    await manager?.shutdown();
    cleanup?.();
    manager = undefined;
  });

  it('runs each server below the relay: niceness and policy as configured, the relay unchanged', async function () {
    const config = testConfig({
      batch: fixtureService([], { sandbox: { nice: 5, sched: 'batch' } }),
      idle: fixtureService([], { sandbox: { nice: 0, sched: 'idle', enabled: false } }),
      plain: fixtureService([], { sandbox: { nice: 0, sched: 'other' } }),
    });
    cleanup = config.cleanup;
    manager = new MCPManager(config, { stopGraceMs: 300 });
    const [batch, idle, plain] = await Promise.all(
      ['batch', 'idle', 'plain'].map((name) => manager!.createClient(name, { initialize: true })),
    );
    const own = priorityOf(process.pid);
    expect(priorityOf(serverPidOf(batch!.pid!))).to.deep.equal({
      nice: own.nice + 5,
      policy: SCHED_BATCH,
    });
    expect(priorityOf(serverPidOf(idle!.pid!))).to.deep.equal({
      nice: own.nice,
      policy: SCHED_IDLE,
    });
    expect(priorityOf(serverPidOf(plain!.pid!))).to.deep.equal({
      nice: own.nice,
      policy: SCHED_OTHER,
    });
    expect(priorityOf(process.pid)).to.deep.equal(own);
  });
});
