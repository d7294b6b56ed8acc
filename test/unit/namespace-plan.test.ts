// Unit tests for the pure parts of isolation "namespaces" (issue 11): which level a service gets,
// the bwrap options, the wrapper chain of planSpawn, and the per-session uid pool.
import { expect } from 'chai';
import type { SandboxConfig, ServiceConfig } from '../../src/config/types.js';
import {
  isWithin,
  parseBind,
  planNamespaceArgs,
  resolveIsolation,
  type NamespaceContext,
} from '../../src/sandbox/namespace-plan.js';
import { keptBelowTmp, planSpawn, type SpawnContext } from '../../src/sandbox/spawn-plan.js';
import { UidPool } from '../../src/sandbox/uid-pool.js';
import { sandboxConfig, serviceConfig } from '../helpers/config.js';

const sandbox = (overrides: Partial<SandboxConfig> = {}): SandboxConfig => ({
  ...sandboxConfig(),
  ...overrides,
});

const NS: NamespaceContext = {
  sandboxDir: '/srv/relay/sandbox',
  sessionDir: '/srv/relay/sandbox/todo-1',
  cwd: '/srv/relay/sandbox/todo-1',
  hide: ['/etc/mcpmux/config.json'],
  switchesUid: false,
};

/** The arguments following each occurrence of `flag`, `count` at a time. */
function after(args: readonly string[], flag: string, count = 1): string[][] {
  return args.flatMap((a, i) => (a === flag ? [args.slice(i + 1, i + 1 + count)] : []));
}

describe('resolveIsolation', function () {
  it('auto: namespaces where bwrap works, rlimits where it does not', function () {
    expect(resolveIsolation(sandbox(), true)).to.equal('namespaces');
    expect(resolveIsolation(sandbox(), false)).to.equal('rlimits');
  });

  it('an explicit "namespaces" without bwrap cannot be met (undefined), never silently less', function () {
    expect(resolveIsolation(sandbox({ isolation: 'namespaces' }), false)).to.equal(undefined);
    expect(resolveIsolation(sandbox({ isolation: 'namespaces' }), true)).to.equal('namespaces');
  });

  it('auto with network "none" needs namespaces too: no silent fallback to the host network', function () {
    expect(resolveIsolation(sandbox({ network: 'none' }), false)).to.equal(undefined);
    expect(resolveIsolation(sandbox({ network: 'none' }), true)).to.equal('namespaces');
  });

  it('rlimits and none are kept; enabled: false is none whatever isolation says', function () {
    expect(resolveIsolation(sandbox({ isolation: 'rlimits' }), true)).to.equal('rlimits');
    expect(resolveIsolation(sandbox({ isolation: 'none' }), true)).to.equal('none');
    expect(resolveIsolation(sandbox({ enabled: false, isolation: 'namespaces' }), true)).to.equal(
      'none',
    );
  });
});

describe('planNamespaceArgs', function () {
  it('unshares pid, ipc and uts, dies with its parent, starts a new session', function () {
    const args = planNamespaceArgs(sandbox(), NS);
    for (const flag of ['--unshare-pid', '--unshare-ipc', '--unshare-uts', '--die-with-parent']) {
      expect(args).to.include(flag);
    }
    expect(args).to.include('--new-session');
    expect(args).not.to.include('--unshare-net');
    expect(args).not.to.include('--as-pid-1'); // the init reaps and takes everyone down with it
  });

  it('network "none" adds --unshare-net', function () {
    expect(planNamespaceArgs(sandbox({ network: 'none' }), NS)).to.include('--unshare-net');
  });

  it('binds / read-only, a private /tmp, an empty read-only sandbox_dir with only the session dir in it', function () {
    const args = planNamespaceArgs(sandbox(), NS);
    expect(after(args, '--ro-bind', 2)[0]).to.deep.equal(['/', '/']);
    expect(after(args, '--tmpfs')).to.deep.equal([['/tmp'], ['/srv/relay/sandbox']]);
    expect(after(args, '--bind', 2)).to.deep.equal([[NS.sessionDir, NS.sessionDir]]);
    expect(after(args, '--remount-ro')).to.deep.equal([['/srv/relay/sandbox']]);
    // the tmpfs over sandbox_dir comes before the session dir is bound into it
    expect(args.indexOf('/srv/relay/sandbox')).to.be.lessThan(args.indexOf(NS.sessionDir));
  });

  it('hides the config file behind /dev/null, after every bind', function () {
    const args = planNamespaceArgs(sandbox({ binds: ['/etc/mcpmux:rw'] }), NS);
    const hide = args.lastIndexOf('/dev/null');
    expect(args.slice(hide - 1, hide + 2)).to.deep.equal([
      '--ro-bind',
      '/dev/null',
      '/etc/mcpmux/config.json',
    ]);
    expect(args.indexOf('/etc/mcpmux')).to.be.lessThan(hide);
  });

  it('does not re-bind a hidden file that /tmp or sandbox_dir already hides', function () {
    const args = planNamespaceArgs(sandbox(), {
      ...NS,
      hide: ['/tmp/x/config.json', '/srv/relay/sandbox/config.json'],
    });
    expect(args).not.to.include('/dev/null');
  });

  it('makes the path to a sandbox_dir below /tmp traversable', function () {
    const args = planNamespaceArgs(sandbox(), {
      ...NS,
      sandboxDir: '/tmp/a/b/sandbox',
      sessionDir: '/tmp/a/b/sandbox/s',
      cwd: '/tmp/a/b/sandbox/s',
    });
    expect(after(args, '--dir')).to.deep.equal([['/tmp/a'], ['/tmp/a/b']]);
  });

  it('keeps a relay checkout below /tmp visible read-only, with sandbox_dir and the config in it still hidden', function () {
    const args = planNamespaceArgs(sandbox(), {
      ...NS,
      sandboxDir: '/tmp/ci/sandbox',
      sessionDir: '/tmp/ci/sandbox/s',
      cwd: '/tmp/ci/sandbox/s',
      hide: ['/tmp/ci/config.json', '/tmp/other/config.json'],
      keep: ['/tmp/ci'],
    });
    expect(after(args, '--ro-bind-try', 2)).to.deep.equal([['/tmp/ci', '/tmp/ci']]);
    // the checkout is bound over the private /tmp, then sandbox_dir hidden in it, then the config
    const order = ['--ro-bind-try', '/tmp/ci/sandbox', '/dev/null'].map((a) => args.indexOf(a));
    expect(order[0]).to.be.greaterThan(args.indexOf('/tmp'));
    expect(order).to.deep.equal([...order].sort((a, b) => a - b));
    expect(after(args, '--ro-bind', 2).slice(-1)).to.deep.equal([
      ['/dev/null', '/tmp/ci/config.json'],
    ]);
    expect(args).not.to.include('/tmp/other/config.json'); // the private /tmp hides it
    expect(after(args, '--dir')).to.deep.equal([]); // the checkout has the path already
  });

  it('hides sandbox_dir after the binds, so a bind that holds it shows no other session', function () {
    const args = planNamespaceArgs(sandbox({ binds: ['/srv/relay'] }), NS);
    const bindAt = args.indexOf('/srv/relay');
    const hideAt = args.findIndex((a, i) => a === '--tmpfs' && args[i + 1] === NS.sandboxDir);
    expect(bindAt).to.be.greaterThan(-1);
    expect(bindAt).to.be.lessThan(hideAt);
  });

  it('keeps the relay directory and the command files below /tmp, nothing else', function () {
    expect(keptBelowTmp('/tmp/ci', ['node', '/tmp/ci/test/fixtures/server.mjs'])).to.deep.equal([
      '/tmp/ci',
    ]);
    expect(keptBelowTmp('/work', ['node', '/tmp/x/server.mjs', '--flag', '/etc/x'])).to.deep.equal([
      '/tmp/x',
    ]);
    expect(keptBelowTmp('/tmp', ['/tmp/a'])).to.deep.equal([]);
  });

  it('binds sandbox.binds read-only by default, writable with :rw; working_dir read-only', function () {
    const args = planNamespaceArgs(sandbox({ binds: ['/data', '/cache:rw', '/ref:ro'] }), {
      ...NS,
      cwd: '/srv/app',
    });
    expect(after(args, '--ro-bind', 2)).to.deep.include.members([
      ['/srv/app', '/srv/app'],
      ['/data', '/data'],
      ['/ref', '/ref'],
    ]);
    expect(after(args, '--bind', 2)).to.deep.include(['/cache', '/cache']);
  });

  it('drops every capability; keeps only what the inner uid switch needs', function () {
    expect(after(planNamespaceArgs(sandbox(), NS), '--cap-add')).to.deep.equal([]);
    expect(after(planNamespaceArgs(sandbox(), NS), '--cap-drop')).to.deep.equal([['ALL']]);
    const switching = planNamespaceArgs(sandbox(), { ...NS, switchesUid: true });
    expect(after(switching, '--cap-add').flat()).to.deep.equal([
      'CAP_SETUID',
      'CAP_SETGID',
      'CAP_SETPCAP',
    ]);
  });

  it('parses binds and path containment', function () {
    expect(parseBind('/a/b')).to.deep.equal({ path: '/a/b', writable: false });
    expect(parseBind('/a:rw')).to.deep.equal({ path: '/a', writable: true });
    expect(() => parseBind('relative')).to.throw(RangeError);
    expect(isWithin('/tmp/x', '/tmp')).to.equal(true);
    expect(isWithin('/tmpx', '/tmp')).to.equal(false);
  });
});

describe('planSpawn with isolation "namespaces"', function () {
  const service: ServiceConfig = serviceConfig(['node', '/srv/todo.mjs'], {
    sandbox: { drop_privileges: true },
  });
  const ctx: SpawnContext = {
    parentEnv: { PATH: '/usr/bin:/bin', SECRET: 'x' },
    parentCwd: '/srv/relay',
    sessionDir: NS.sessionDir,
    isRoot: true,
    nobody: { uid: 65534, gid: 65534 },
    isolation: 'namespaces',
    sessionUid: 200007,
    namespaces: { bwrap: '/usr/bin/bwrap', sandboxDir: NS.sandboxDir, hide: [] },
  };

  it('setpriv (pdeathsig) → bwrap → setpriv (uid switch) → env -C → chrt → nice → prlimit → argv', function () {
    const plan = planSpawn(service, ctx);
    expect(plan.file).to.equal('setpriv');
    expect(plan.isolation).to.equal('namespaces');
    expect(plan.args.slice(0, 4)).to.deep.equal(['--pdeathsig', 'SIGKILL', '--', '/usr/bin/bwrap']);
    const inside = plan.args.slice(plan.args.indexOf('--', 4) + 1);
    expect(inside.slice(0, 10)).to.deep.equal([
      'setpriv',
      '--no-new-privs',
      '--reuid=200007',
      '--regid=200007',
      '--clear-groups',
      '--inh-caps=-all',
      '--bounding-set=-all',
      '--',
      'env',
      '-u',
    ]);
    expect(inside.slice(10, 14)).to.deep.equal(['PWD', '-C', NS.sessionDir, '--']);
    expect(inside.slice(14, 20)).to.deep.equal(['chrt', '--batch', '0', 'nice', '-n', '5']);
    expect(inside[20]).to.equal('prlimit');
    expect(inside.slice(-2)).to.deep.equal(['node', '/srv/todo.mjs']);
    expect(plan.runAs).to.deep.equal({ uid: 200007, gid: 200007 });
    expect(plan.env).not.to.have.property('SECRET');
  });

  it('refuses to plan "namespaces" without bwrap', function () {
    const without: SpawnContext = { ...ctx };
    delete (without as { namespaces?: unknown }).namespaces;
    expect(() => planSpawn(service, without)).to.throw(RangeError);
  });
});

describe('UidPool', function () {
  it('hands out each uid of the range once, then none, and reuses the longest-free first', function () {
    const pool = new UidPool(1000, 3);
    expect([pool.allocate(), pool.allocate(), pool.allocate()]).to.deep.equal([1000, 1001, 1002]);
    expect(pool.allocate()).to.equal(undefined);
    pool.release(1001);
    pool.release(1000);
    pool.release(1000); // twice: no double entry
    expect([pool.allocate(), pool.allocate(), pool.allocate()]).to.deep.equal([
      1001,
      1000,
      undefined,
    ]);
    expect(pool.inUse).to.equal(3);
  });

  it('rejects an empty or invalid range', function () {
    expect(() => new UidPool(0, 5)).to.throw(RangeError);
    expect(() => new UidPool(1000, 0)).to.throw(RangeError);
  });
});
