import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { renderConfigDocs } from '../../src/config/docs.js';
import { ConfigError, describeServices, loadConfig } from '../../src/config/load.js';
import { substituteString, substituteVars } from '../../src/config/substitute.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const signalwireSample = join(repoRoot, 'test/fixtures/config/signalwire-sample-config.json');

function expectConfigError(load: () => unknown): ConfigError {
  try {
    load();
  } catch (err) {
    expect(err).to.be.instanceOf(ConfigError);
    return err as ConfigError;
  }
  expect.fail('expected a ConfigError');
}

describe('config', () => {
  let dir: string;
  let n = 0;
  const writeConfig = (content: unknown): string => {
    const file = join(dir, `config-${n++}.json`);
    writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
    return file;
  };
  const todo = (extra: Record<string, unknown> = {}) => ({
    services: { todo: { command: ['node', 'server.mjs'], ...extra } },
  });

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'mcpmux-config-'));
  });
  after(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe('substitution', () => {
    it('replaces ${VAR} and ${VAR|default}, several per string', () => {
      const env = { A: 'x', B: 'y' };
      expect(substituteString('${A}-${B|z}-${C|z}', env)).to.equal('x-y-z');
      expect(substituteString('${UNSET}', env)).to.equal('');
      expect(substituteString('no placeholders', env)).to.equal('no placeholders');
    });

    it('lets a variable set to the empty string win over the default', () => {
      expect(substituteString('[${EMPTY|fallback}]', { EMPTY: '' })).to.equal('[]');
    });

    it('reaches strings at any depth, never keys, and does not coerce types', () => {
      const out = substituteVars({ '${K}': ['${N|5}', 7, true, null, { deep: '${T|true}' }] }, {});
      expect(out).to.deep.equal({ '${K}': ['5', 7, true, null, { deep: 'true' }] });
    });
  });

  describe('SignalWire sample config', () => {
    it('loads with warnings only for the keys mcpmux ignores', () => {
      const { config, warnings } = loadConfig({ file: signalwireSample, env: {}, cwd: dir });
      expect(config.server.port).to.equal(8100);
      expect(config.server.host).to.equal('0.0.0.0');
      expect(config.server.auth_user).to.equal('admin');
      expect(config.server.auth_password).to.equal('changeme');
      expect(config.logging.level).to.equal('info');
      expect(config.logging.file).to.equal(join(dir, 'gateway.log'));
      expect(config.session.default_timeout).to.equal(300);
      expect(config.services['todo']?.enabled).to.equal(true);
      const disabled = Object.entries(config.services).filter(([, s]) => !s.enabled);
      expect(disabled.map(([name]) => name)).to.have.members([
        'example_shell',
        'example_calculator',
        'example_filesystem',
      ]);
      expect(warnings).to.have.members([
        'unknown key session.cleanup_interval (ignored)',
        'unknown key rate_limiting.storage_uri (ignored)',
        'unknown key services.example_shell.sandbox.note (ignored)',
        'unknown key services.example_calculator.sandbox.note (ignored)',
        'unknown key services.example_filesystem.sandbox.allowed_paths (ignored)',
        'unknown key services.example_filesystem.sandbox.note (ignored)',
      ]);
      expect(describeServices(config)).to.include('todo [enabled]');
      expect(config.rate_limiting).to.deep.include({
        default_limits: ['200 per day', '50 per hour'],
        tools_limit: '30 per minute',
        call_limit: '10 per minute',
        session_delete_limit: '20 per minute',
      });
      expect(config.rest.ended_sessions).to.equal('restart');
    });

    it("refuses a rate_limiting string that is not flask-limiter's, naming the key", () => {
      const file = writeConfig({ rate_limiting: { call_limit: '10 per fortnight' } });
      const err = expectConfigError(() => loadConfig({ file, env: {}, cwd: dir }));
      expect(err.path).to.equal('rate_limiting.call_limit');
      expect(err.message).to.include('"10 per fortnight" is not a limit');
      const list = writeConfig({ rate_limiting: { default_limits: ['1/hour', 7] } });
      expect(expectConfigError(() => loadConfig({ file: list, env: {}, cwd: dir })).path).to.equal(
        'rate_limiting.default_limits',
      );
      const env = { MCPMUX_RATE_DEFAULT_LIMITS: '5 per second; 100 per day' };
      expect(loadConfig({ env, cwd: dir }).config.rate_limiting.default_limits).to.equal(
        '5 per second; 100 per day',
      );
    });

    it('takes rest.ended_sessions "restart" or "report" only', () => {
      const file = writeConfig({ rest: { ended_sessions: 'report' } });
      expect(loadConfig({ file, env: {}, cwd: dir }).config.rest.ended_sessions).to.equal('report');
      const env = { MCPMUX_REST_ENDED_SESSIONS: 'Restart' };
      expect(loadConfig({ env, cwd: dir }).config.rest.ended_sessions).to.equal('restart');
      const bad = writeConfig({ rest: { ended_sessions: 'retry' } });
      expect(expectConfigError(() => loadConfig({ file: bad, env: {}, cwd: dir })).path).to.equal(
        'rest.ended_sessions',
      );
    });
    it('takes ${VAR|default} values from the environment, converted by key type', () => {
      const env = { MCP_PORT: '9001', MCP_LOG_LEVEL: 'WARNING', MCP_SESSION_TIMEOUT: '42' };
      const { config } = loadConfig({ file: signalwireSample, env, cwd: dir });
      expect(config.server.port).to.equal(9001);
      expect(config.logging.level).to.equal('warn');
      expect(config.session.default_timeout).to.equal(42);
      expect(config.services['todo']?.idle_timeout).to.equal(42);
    });
  });

  describe("SignalWire's certs/server.pem", () => {
    const pem = '-----BEGIN CERTIFICATE-----\nx\n-----END CERTIFICATE-----\n';
    const key = '-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n';
    const place = (base: string, text: string): string => {
      mkdirSync(join(base, 'certs'), { recursive: true });
      writeFileSync(join(base, 'certs/server.pem'), text);
      return join(base, 'certs/server.pem');
    };

    it('serves TLS from the working directory, else beside the config file, when none is set', () => {
      const work = mkdtempSync(join(dir, 'work-'));
      const beside = mkdtempSync(join(dir, 'beside-'));
      const file = join(beside, 'config.json');
      writeFileSync(file, '{}');
      expect(loadConfig({ file, env: {}, cwd: work }).notices).to.deep.equal([]);
      const besidePem = place(beside, pem + key);
      const found = loadConfig({ file, env: {}, cwd: work });
      expect(found.config.server.tls).to.deep.equal({ cert: besidePem, key: besidePem });
      expect(found.notices).to.have.length(1);
      expect(found.notices[0]).to.include(besidePem).and.include('HTTPS');
      const workPem = place(work, key + pem);
      expect(loadConfig({ file, env: {}, cwd: work }).config.server.tls.cert).to.equal(workPem);
      // a configured TLS wins
      const env = { MCPMUX_TLS_CERT: '/etc/c.pem', MCPMUX_TLS_KEY: '/etc/k.pem' };
      const configured = loadConfig({ file, env, cwd: work });
      expect(configured.config.server.tls.cert).to.equal('/etc/c.pem');
      expect(configured.notices).to.deep.equal([]);
    });

    it('refuses a certs/server.pem without a private key instead of serving plain HTTP', () => {
      const work = mkdtempSync(join(dir, 'nokey-'));
      place(work, pem);
      const err = expectConfigError(() => loadConfig({ env: {}, cwd: work }));
      expect(err.path).to.equal('server.tls');
      expect(err.message).to.include('no key');
    });
  });

  describe('types', () => {
    it('keeps a numeric-looking password a string and converts "true" for a boolean key', () => {
      const file = writeConfig({
        server: { auth_password: '12345', port: '8200' },
        rate_limiting: { enabled: '${RL|true}' },
        logging: { level: 'DEBUG' },
      });
      const { config } = loadConfig({ file, env: {}, cwd: dir });
      expect(config.server.auth_password).to.equal('12345');
      expect(config.server.port).to.equal(8200);
      expect(config.rate_limiting.enabled).to.equal(true);
      expect(config.logging.level).to.equal('debug');
    });

    it('names the key path of a value of the wrong type', () => {
      const file = writeConfig(todo({ sandbox: { limits: { memory_mb: 'lots' } } }));
      const err = expectConfigError(() => loadConfig({ file, env: {}, cwd: dir }));
      expect(err.message).to.include('services.todo.sandbox.limits.memory_mb must be an integer');
      expect(err.path).to.equal('services.todo.sandbox.limits.memory_mb');
    });

    it('refuses a port that is not a number, naming the key', () => {
      const file = writeConfig({ server: { port: 'abc' } });
      const err = expectConfigError(() => loadConfig({ file, env: {}, cwd: dir }));
      expect(err.message).to.match(/^server\.port must be an integer/);
      expect(err.path).to.equal('server.port');
    });

    it('never shows the value of a sensitive key in an error', () => {
      const file = writeConfig({ server: { auth_token: 12345 } });
      const err = expectConfigError(() => loadConfig({ file, env: {}, cwd: dir }));
      expect(err.message).to.equal('server.auth_token must be a string');
    });

    it('warns about unknown keys and sections instead of failing', () => {
      const file = writeConfig({
        security: { ssl: true },
        server: { extra: 1 },
        ...todo({ x: [] }),
      });
      const { warnings } = loadConfig({ file, env: {}, cwd: dir });
      expect(warnings).to.deep.equal([
        'unknown key security (ignored)',
        'unknown key server.extra (ignored)',
        'unknown key services.todo.x (ignored)',
      ]);
    });

    it('refuses a bad service name and a service entry that is not an object', () => {
      const file = writeConfig({ services: { 'bad name': { command: ['x'] }, ok: 5 } });
      const err = expectConfigError(() => loadConfig({ file, env: {}, cwd: dir }));
      expect(err.problems.map((p) => p.path)).to.deep.equal(['services.bad name', 'services.ok']);
    });
  });

  describe('precedence', () => {
    it('lets MCPMUX_* beat the file and arguments beat the environment', () => {
      const file = writeConfig({ server: { port: 8200, host: '127.0.0.2' } });
      const env = { MCPMUX_PORT: '8300', MCPMUX_HOST: '127.0.0.3' };
      expect(loadConfig({ file, env: {}, cwd: dir }).config.server.port).to.equal(8200);
      const fromEnv = loadConfig({ file, env, cwd: dir }).config.server;
      expect([fromEnv.port, fromEnv.host]).to.deep.equal([8300, '127.0.0.3']);
      const fromArgs = loadConfig({
        file,
        env,
        cwd: dir,
        args: { port: '8400', logLevel: 'TRACE' },
      });
      expect(fromArgs.config.server.port).to.equal(8400);
      expect(fromArgs.config.server.host).to.equal('127.0.0.3');
      expect(fromArgs.config.logging.level).to.equal('trace');
    });

    it('names the environment variable a bad value came from', () => {
      const err = expectConfigError(() => loadConfig({ env: { MCPMUX_PORT: 'x' }, cwd: dir }));
      expect(err.message).to.include('from MCPMUX_PORT');
    });

    it('falls back to the schema defaults without a file', () => {
      const { config, warnings } = loadConfig({ env: {}, cwd: dir });
      expect(config.server.host).to.equal('127.0.0.1');
      expect(config.server.port).to.equal(8100);
      expect(config.session.sandbox_dir).to.equal(join(dir, 'sandbox'));
      expect(config.services).to.deep.equal({});
      expect(warnings).to.deep.equal([]);
      expect(Object.isFrozen(config.server.tls)).to.equal(true);
    });
  });

  describe('file errors', () => {
    it('reports invalid JSON with the file and the position', () => {
      const file = writeConfig('{\n  "server": {\n    "port": 8100,\n  }\n}');
      const err = expectConfigError(() => loadConfig({ file, env: {}, cwd: dir }));
      expect(err.message).to.include(file);
      expect(err.message).to.include('line 4, column 3');
    });

    it('reports a missing file', () => {
      const err = expectConfigError(() => loadConfig({ file: 'nope.json', env: {}, cwd: dir }));
      expect(err.message).to.include(join(dir, 'nope.json')).and.include('not found');
    });
  });

  describe('services', () => {
    it('requires command on an enabled service', () => {
      const file = writeConfig({ services: { todo: { description: 'x' } } });
      const err = expectConfigError(() => loadConfig({ file, env: {}, cwd: dir }));
      expect(err.path).to.equal('services.todo.command');
      expect(err.message).to.include('services.todo.command must be a non-empty array');
    });

    it('refuses a command that is not an array of strings', () => {
      const file = writeConfig({ services: { todo: { command: 'node server.mjs' } } });
      const err = expectConfigError(() => loadConfig({ file, env: {}, cwd: dir }));
      expect(err.path).to.equal('services.todo.command');
    });

    it('tolerates a disabled service without command, with a warning', () => {
      const file = writeConfig({ services: { later: { enabled: false } } });
      const { config, warnings } = loadConfig({ file, env: {}, cwd: dir });
      expect(config.services['later']?.enabled).to.equal(false);
      expect(warnings).to.deep.equal(['services.later.command is missing (service disabled)']);
    });

    it('fills per-service defaults, idle_timeout from session.default_timeout', () => {
      const file = writeConfig({ session: { default_timeout: 120 }, ...todo() });
      const service = loadConfig({ file, env: {}, cwd: dir }).config.services['todo']!;
      expect(service.idle_timeout).to.equal(120);
      expect([service.concurrency, service.queue_limit, service.request_timeout]).to.deep.equal([
        16, 256, 60,
      ]);
      expect(service.sandbox.limits).to.deep.equal({
        cpu_seconds: 300,
        memory_mb: 1024,
        max_processes: 64,
        file_size_mb: 10,
        open_files: 1024,
      });
    });

    it('resolves relative paths against cwd', () => {
      mkdirSync(join(dir, 'servers'), { recursive: true });
      writeFileSync(join(dir, 'servers/todo.mjs'), '');
      const file = writeConfig({
        session: { sandbox_dir: 'sb' },
        logging: { file: 'logs/relay.log' },
        services: {
          todo: {
            command: ['node', 'servers/todo.mjs', '--flag', 'not-a-file', 'servers'],
            sandbox: { working_dir: 'work' },
          },
          local: { command: ['./bin/server', '/abs/arg'] },
        },
      });
      const { config } = loadConfig({ file, env: {}, cwd: dir });
      expect(config.session.sandbox_dir).to.equal(join(dir, 'sb'));
      expect(config.logging.file).to.equal(join(dir, 'logs/relay.log'));
      expect(config.services['todo']?.command).to.deep.equal([
        'node',
        join(dir, 'servers/todo.mjs'),
        '--flag',
        'not-a-file',
        join(dir, 'servers'),
      ]);
      expect(config.services['todo']?.sandbox.working_dir).to.equal(join(dir, 'work'));
      expect(config.services['local']?.command).to.deep.equal([
        join(dir, 'bin/server'),
        '/abs/arg',
      ]);
      expect(config.server.tls.cert).to.equal('');
    });
  });

  it('ships a default config that loads without warnings', () => {
    const file = join(repoRoot, 'config/default.json');
    const { config, warnings } = loadConfig({ file, env: {}, cwd: repoRoot });
    expect(warnings).to.deep.equal([]);
    expect(config.services['todo']?.enabled).to.equal(true);
    expect(config.services['todo']?.command[1]).to.match(/examples\/servers\/todo\.mjs$/);
  });

  it('keeps docs/config.md up to date with the schema', () => {
    const onDisk = readFileSync(join(repoRoot, 'docs/config.md'), 'utf8');
    expect(
      onDisk === renderConfigDocs(),
      'run: node --import tsx scripts/gen-config-docs.ts',
    ).to.equal(true);
  });
});
