// What one session's process needs before it is spawned: its isolation level on this host, its
// own uid when it drops privileges (taken from the manager's UidPool, given back when the process
// is gone), its directory, and the spawn plan. The only impure part of planning a spawn.

import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { ServiceConfig } from '../config/types.js';
import { McpmuxError } from '../errors.js';
import type { HostInfo } from './host.js';
import { resolveIsolation } from './namespace-plan.js';
import { planSpawn, type SpawnPlan } from './spawn-plan.js';
import type { UidPool } from './uid-pool.js';

export interface SessionSandbox {
  readonly host: HostInfo;
  /** session.sandbox_dir (absolute). */
  readonly sandboxDir: string;
  /** Per-session uids; without a pool a process that drops privileges runs as nobody. */
  readonly uids?: UidPool | undefined;
  /** Files a namespaced session must not see (the relay's config file). */
  readonly hide?: readonly string[] | undefined;
}

export interface PreparedSpawn {
  readonly plan: SpawnPlan;
  readonly sessionDir: string | undefined;
  /** Gives the uid back; pass it to ManagedChild as onGone. */
  readonly release: () => void;
}

export function prepareSpawn(
  service: ServiceConfig,
  sessionName: string,
  sandbox: SessionSandbox,
): PreparedSpawn {
  const { host } = sandbox;
  const isolation = resolveIsolation(service.sandbox, host.bwrap !== undefined);
  if (isolation === undefined) {
    throw new McpmuxError(
      'spawn_failed',
      `isolation "namespaces" needs bubblewrap (apt-get install bubblewrap): ${host.bwrapProblem ?? ''}`,
    );
  }
  const sessionDir = isolation === 'none' ? undefined : join(sandbox.sandboxDir, sessionName);
  const dropsPrivileges = isolation !== 'none' && service.sandbox.drop_privileges && host.isRoot;
  const uid = dropsPrivileges ? sandbox.uids?.allocate() : undefined;
  if (dropsPrivileges && sandbox.uids !== undefined && uid === undefined) {
    throw new McpmuxError('spawn_failed', 'no free uid left in session.uid_range_*', {
      uid_range_size: sandbox.uids.size,
    });
  }
  const release = () => {
    if (uid !== undefined) sandbox.uids?.release(uid);
  };
  try {
    const plan = planSpawn(service, {
      parentEnv: process.env,
      parentCwd: process.cwd(),
      sessionDir,
      isRoot: host.isRoot,
      nobody: host.nobody,
      isolation,
      sessionUid: uid,
      ...(host.bwrap !== undefined && {
        // only what exists: bwrap cannot make a mount point on the read-only system (a log file
        // rotated away would otherwise fail every spawn)
        namespaces: {
          bwrap: host.bwrap,
          sandboxDir: sandbox.sandboxDir,
          hide: (sandbox.hide ?? []).filter((path) => existsSync(path)),
        },
      }),
    });
    return { plan, sessionDir, release };
  } catch (err) {
    release();
    throw err;
  }
}
