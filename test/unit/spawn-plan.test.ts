// Unit tests for the pure spawn plan (SPEC §3): environment filtering, prlimit/setpriv wrappers,
// privilege drop, working directory. No process is started.
import { expect } from 'chai';
import type { SandboxConfig, ServiceConfig } from '../../src/config/types.js';
import {
  DANGEROUS_ENV,
  planEnv,
  planLimits,
  planPriority,
  planSpawn,
  type SpawnContext,
} from '../../src/sandbox/spawn-plan.js';

const MIB = 1024 * 1024;

const DEFAULT_SANDBOX: SandboxConfig = {
  enabled: true,
  resource_limits: true,
  restricted_env: true,
  drop_privileges: false,
  working_dir: '',
  isolation: 'auto',
  network: 'host',
  nice: 0,
  sched: 'other',
  binds: [],
  limits: {
    cpu_seconds: 300,
    memory_mb: 1024,
    max_processes: 64,
    file_size_mb: 10,
    open_files: 1024,
  },
};

function service(
  sandbox: Partial<SandboxConfig> = {},
  overrides: Partial<Omit<ServiceConfig, 'sandbox'>> = {},
): ServiceConfig {
  return {
    command: ['node', '/srv/servers/todo.mjs', '--flag', 'a b'],
    description: 'A small stateful to-do list',
    enabled: true,
    env: {},
    concurrency: 16,
    queue_limit: 256,
    request_timeout: 60,
    max_request_time: 600,
    idle_timeout: 300,
    warm_spares: 0,
    preload_tools: false,
    ...overrides,
    sandbox: { ...DEFAULT_SANDBOX, ...sandbox },
  };
}

const PARENT_ENV = {
  PATH: '/opt/bin:/usr/bin:/bin',
  LANG: 'en_GB.UTF-8',
  HOME: '/home/relay',
  TMPDIR: '/var/tmp',
  USER: 'relay',
  SECRET_TOKEN: 'hunter2',
  LD_PRELOAD: '/evil/preload.so',
  LD_LIBRARY_PATH: '/evil/lib',
  NODE_OPTIONS: '--require /evil/hook.js',
  MCPMUX_AUTH_TOKEN: 'relay-secret',
  MCPMUX_SERVER_PORT: '8100',
  UNSET_VAR: undefined,
} as const;

function context(overrides: Partial<SpawnContext> = {}): SpawnContext {
  return {
    parentEnv: PARENT_ENV,
    parentCwd: '/srv/relay',
    sessionDir: '/srv/relay/sandbox/todo/3f2a',
    isRoot: false,
    nobody: { uid: 65534, gid: 65534 },
    ...overrides,
  };
}

/** The options given to setpriv, i.e. args up to its `--`. */
function setprivOptions(args: readonly string[]): string[] {
  const end = args.indexOf('--');
  expect(end, 'setpriv args must contain --').to.be.greaterThan(-1);
  return args.slice(0, end);
}

/** The options given to prlimit, or undefined when prlimit is not in the chain. */
function prlimitOptions(args: readonly string[]): string[] | undefined {
  const start = args.indexOf('prlimit');
  if (start === -1) return undefined;
  const end = args.indexOf('--', start);
  return args.slice(start + 1, end);
}

describe('spawn plan', () => {
  describe('DANGEROUS_ENV', () => {
    it('lists the loader and Node injection variables', () => {
      expect([...DANGEROUS_ENV]).to.have.members(['LD_PRELOAD', 'LD_LIBRARY_PATH', 'NODE_OPTIONS']);
    });
  });

  describe('planEnv with restricted_env', () => {
    it('contains exactly PATH, LANG, HOME and TMPDIR, with HOME/TMPDIR in the session dir', () => {
      const ctx = context();
      const env = planEnv(service(), ctx);
      expect(env).to.deep.equal({
        PATH: PARENT_ENV.PATH,
        LANG: PARENT_ENV.LANG,
        HOME: ctx.sessionDir,
        TMPDIR: `${ctx.sessionDir!}/tmp`,
      });
    });

    it("adds the service's env", () => {
      const env = planEnv(service({}, { env: { API_KEY: 'k', EMPTY: '' } }), context());
      expect(Object.keys(env).sort()).to.deep.equal(
        ['API_KEY', 'EMPTY', 'HOME', 'LANG', 'PATH', 'TMPDIR'].sort(),
      );
      expect(env.API_KEY).to.equal('k');
      expect(env.EMPTY).to.equal('');
    });

    it('falls back to a default PATH and LANG when the relay has none', () => {
      const env = planEnv(service(), context({ parentEnv: {} }));
      expect(env.PATH).to.be.a('string').that.includes('/usr/bin');
      expect(env.LANG).to.be.a('string').that.is.not.empty;
    });

    it('lets the service env set NODE_OPTIONS and LD_LIBRARY_PATH', () => {
      const env = planEnv(
        service({}, { env: { NODE_OPTIONS: '--max-old-space-size=256', LD_LIBRARY_PATH: '/x' } }),
        context(),
      );
      expect(env.NODE_OPTIONS).to.equal('--max-old-space-size=256');
      expect(env.LD_LIBRARY_PATH).to.equal('/x');
    });
  });

  describe('planEnv without restricted_env', () => {
    const modes: [string, Partial<SandboxConfig>][] = [
      ['restricted_env false', { restricted_env: false }],
      ['sandbox disabled', { enabled: false }],
    ];
    for (const [name, sandbox] of modes) {
      it(`${name}: inherits the parent env minus LD_PRELOAD, LD_LIBRARY_PATH, NODE_OPTIONS and MCPMUX_*`, () => {
        const env = planEnv(service(sandbox), context());
        for (const key of DANGEROUS_ENV) expect(env).not.to.have.property(key);
        for (const key of Object.keys(env)) expect(key).not.to.match(/^MCPMUX_/);
        expect(env.USER).to.equal('relay');
        expect(env.SECRET_TOKEN).to.equal('hunter2');
        expect(env.PATH).to.equal(PARENT_ENV.PATH);
        expect(env).not.to.have.property('UNSET_VAR');
      });

      it(`${name}: a service env may still set NODE_OPTIONS`, () => {
        const env = planEnv(
          service(sandbox, { env: { NODE_OPTIONS: '--enable-source-maps' } }),
          context(),
        );
        expect(env.NODE_OPTIONS).to.equal('--enable-source-maps');
      });
    }

    it('restricted_env false with the sandbox on: HOME and TMPDIR still point at the session dir', () => {
      const ctx = context();
      const env = planEnv(service({ restricted_env: false }), ctx);
      expect(env.HOME).to.equal(ctx.sessionDir);
      expect(env.TMPDIR).to.equal(`${ctx.sessionDir!}/tmp`);
    });

    it('sandbox disabled: HOME and TMPDIR are not overridden', () => {
      const env = planEnv(service({ enabled: false }), context({ sessionDir: undefined }));
      expect(env.HOME).to.equal(PARENT_ENV.HOME);
      expect(env.TMPDIR).to.equal(PARENT_ENV.TMPDIR);
    });
  });

  describe('planPriority', () => {
    it('wraps the server in chrt and nice as configured, nothing at the defaults of the OS', () => {
      expect(planPriority({ ...DEFAULT_SANDBOX, nice: 0, sched: 'other' })).to.deep.equal([]);
      expect(planPriority({ ...DEFAULT_SANDBOX, nice: 5, sched: 'batch' })).to.deep.equal([
        'chrt',
        '--batch',
        '0',
        'nice',
        '-n',
        '5',
      ]);
      expect(planPriority({ ...DEFAULT_SANDBOX, nice: 0, sched: 'idle' })).to.deep.equal([
        'chrt',
        '--idle',
        '0',
      ]);
    });

    it('applies with the sandbox off too, before the command', () => {
      const plan = planSpawn(
        service({ enabled: false, nice: 3, sched: 'other' }),
        context({ sessionDir: undefined }),
      );
      const dash = plan.args.indexOf('--');
      expect(plan.args.slice(dash + 1, dash + 4)).to.deep.equal(['nice', '-n', '3']);
    });
  });

  describe('planLimits', () => {
    it('maps every limit to a prlimit option, memory as RLIMIT_DATA in bytes', () => {
      expect(planLimits(DEFAULT_SANDBOX)).to.deep.equal([
        '--cpu=300',
        `--data=${1024 * MIB}`,
        '--nproc=64',
        `--fsize=${10 * MIB}`,
        '--nofile=1024',
      ]);
    });

    it('never uses RLIMIT_AS', () => {
      const opts = planLimits(DEFAULT_SANDBOX);
      expect(opts.some((o) => o.startsWith('--as'))).to.equal(false);
    });

    const zeroes: [keyof SandboxConfig['limits'], string][] = [
      ['cpu_seconds', '--cpu'],
      ['memory_mb', '--data'],
      ['max_processes', '--nproc'],
      ['file_size_mb', '--fsize'],
      ['open_files', '--nofile'],
    ];
    for (const [key, option] of zeroes) {
      it(`omits ${option} when ${key} is 0`, () => {
        const opts = planLimits({
          ...DEFAULT_SANDBOX,
          limits: { ...DEFAULT_SANDBOX.limits, [key]: 0 },
        });
        expect(opts).to.have.length(4);
        expect(opts.some((o) => o.startsWith(`${option}=`))).to.equal(false);
      });
    }

    it('is empty when every limit is 0', () => {
      const limits = {
        cpu_seconds: 0,
        memory_mb: 0,
        max_processes: 0,
        file_size_mb: 0,
        open_files: 0,
      };
      expect(planLimits({ ...DEFAULT_SANDBOX, limits })).to.deep.equal([]);
    });
  });

  describe('planSpawn', () => {
    it('runs setpriv first with --pdeathsig SIGKILL and --no-new-privs, then prlimit, then the argv unchanged', () => {
      const svc = service();
      const plan = planSpawn(svc, context());
      expect(plan.file).to.equal('setpriv');
      expect(plan.args.slice(0, 2)).to.deep.equal(['--pdeathsig', 'SIGKILL']);
      expect(setprivOptions(plan.args)).to.include('--no-new-privs');
      expect(prlimitOptions(plan.args)).to.deep.equal(planLimits(svc.sandbox));
      expect(plan.args.slice(-svc.command.length)).to.deep.equal(svc.command);
      expect(plan.args.slice(-svc.command.length - 1)[0]).to.equal('--');
      expect(plan.command).to.deep.equal(svc.command);
      expect(plan.env).to.deep.equal(planEnv(svc, context()));
    });

    it('builds exactly setpriv … -- prlimit … -- argv', () => {
      const svc = service();
      const plan = planSpawn(svc, context());
      expect(plan.args).to.deep.equal([
        '--pdeathsig',
        'SIGKILL',
        '--no-new-privs',
        '--',
        'prlimit',
        ...planLimits(svc.sandbox),
        '--',
        ...svc.command,
      ]);
    });

    it('does not copy a reference to the service argv', () => {
      const svc = service();
      const plan = planSpawn(svc, context());
      expect(plan.command).not.to.equal(svc.command);
    });

    it('resource_limits false: no prlimit', () => {
      const svc = service({ resource_limits: false });
      const plan = planSpawn(svc, context());
      expect(plan.args).not.to.include('prlimit');
      expect(plan.args).to.deep.equal([
        '--pdeathsig',
        'SIGKILL',
        '--no-new-privs',
        '--',
        ...svc.command,
      ]);
    });

    it('all limits 0: no prlimit', () => {
      const limits = {
        cpu_seconds: 0,
        memory_mb: 0,
        max_processes: 0,
        file_size_mb: 0,
        open_files: 0,
      };
      const plan = planSpawn(service({ limits }), context());
      expect(plan.args).not.to.include('prlimit');
    });

    it('drop_privileges as non-root: no uid switch, no runAs', () => {
      const plan = planSpawn(service({ drop_privileges: true }), context({ isRoot: false }));
      const opts = setprivOptions(plan.args);
      expect(opts.some((o) => o.startsWith('--reuid') || o.startsWith('--regid'))).to.equal(false);
      expect(opts).not.to.include('--clear-groups');
      expect(plan.runAs).to.equal(undefined);
    });

    it('drop_privileges as root: --reuid/--regid/--clear-groups and runAs = nobody', () => {
      const ctx = context({ isRoot: true, nobody: { uid: 65534, gid: 65533 } });
      const plan = planSpawn(service({ drop_privileges: true }), ctx);
      const opts = setprivOptions(plan.args);
      expect(opts.slice(0, 2)).to.deep.equal(['--pdeathsig', 'SIGKILL']);
      expect(opts).to.include.members([
        '--no-new-privs',
        '--reuid=65534',
        '--regid=65533',
        '--clear-groups',
      ]);
      expect(plan.runAs).to.deep.equal({ uid: 65534, gid: 65533 });
    });

    it('root without drop_privileges: no uid switch', () => {
      const plan = planSpawn(service(), context({ isRoot: true }));
      expect(plan.args.some((a) => a.startsWith('--reuid'))).to.equal(false);
      expect(plan.runAs).to.equal(undefined);
    });

    it('cwd defaults to the session dir', () => {
      const ctx = context();
      expect(planSpawn(service(), ctx).cwd).to.equal(ctx.sessionDir);
    });

    it('working_dir wins over the session dir', () => {
      const plan = planSpawn(service({ working_dir: '/srv/data' }), context());
      expect(plan.cwd).to.equal('/srv/data');
      // HOME stays the session's own directory.
      expect(plan.env.HOME).to.equal(context().sessionDir);
    });

    describe('sandbox disabled', () => {
      const ctx = context({ sessionDir: undefined, isRoot: true });
      const svc = service({ enabled: false, drop_privileges: true });

      it('keeps setpriv --pdeathsig SIGKILL but has no --no-new-privs, no prlimit, no uid switch', () => {
        const plan = planSpawn(svc, ctx);
        expect(plan.file).to.equal('setpriv');
        expect(plan.args).to.deep.equal(['--pdeathsig', 'SIGKILL', '--', ...svc.command]);
        expect(plan.runAs).to.equal(undefined);
      });

      it('runs in the parent cwd', () => {
        expect(planSpawn(svc, ctx).cwd).to.equal('/srv/relay');
      });

      it('runs in the parent cwd even when a session dir is passed', () => {
        expect(planSpawn(svc, context()).cwd).to.equal('/srv/relay');
      });

      it('runs in working_dir when set', () => {
        expect(planSpawn(service({ enabled: false, working_dir: '/w' }), ctx).cwd).to.equal('/w');
      });

      it('does not override HOME', () => {
        expect(planSpawn(svc, context()).env.HOME).to.equal(PARENT_ENV.HOME);
      });
    });

    it('passes argv elements that look like options through unchanged', () => {
      const command = ['python3', '-m', 'server', '--', '--pdeathsig', ''];
      const plan = planSpawn(service({}, { command }), context());
      expect(plan.args.slice(-command.length)).to.deep.equal(command);
    });

    it('rejects an empty command', () => {
      expect(() => planSpawn(service({}, { command: [] }), context())).to.throw(RangeError);
    });
  });
});
