import { expect } from 'chai';
import {
  cacheKey,
  fillStep,
  installerPath,
  planOf,
  sessionCommand,
} from '../../src/sandbox/package-plans.js';

describe('package plans (bunx, uvx, pipx)', function () {
  it('npx plans keep the npx parse and its cache key', function () {
    const plan = planOf(['npx', '-y', '@modelcontextprotocol/server-memory']);
    expect(plan).to.include({
      launcher: 'npx',
      program: 'npx',
      spec: '@modelcontextprotocol/server-memory',
    });
    expect(cacheKey(plan!)).to.equal('@modelcontextprotocol/server-memory\0');
  });

  it('parses bunx: package or -p spec with a bin, --bun, install options, a leading env', function () {
    expect(
      planOf(['env', 'K=v', '/opt/bun/bunx', '-y', '@scope/srv@1.2', '--port', '1']),
    ).to.deep.equal({
      launcher: 'bunx',
      program: '/opt/bun/bunx',
      spec: '@scope/srv@1.2',
      name: '@scope/srv',
      bin: undefined,
      installOptions: [],
      runtime: undefined,
      args: ['--port', '1'],
      env: ['K=v'],
    });
    const p = planOf([
      'bunx',
      '--bun',
      '--trust',
      '--registry',
      'http://r',
      '-p',
      '/t/x.tgz',
      'srv',
      '-v',
    ]);
    expect(p).to.include({ spec: '/t/x.tgz', name: undefined, bin: 'srv', runtime: 'bun' });
    expect(p!.installOptions).to.deep.equal(['--trust', '--registry=http://r']);
    expect(p!.args).to.deep.equal(['-v']);
    expect(planOf(['bunx', '--package=a@2', 'a-cli'])).to.include({ spec: 'a@2', bin: 'a-cli' });
  });

  it('parses uvx: the command names the package unless --from; --python and --with are installed', function () {
    expect(planOf(['uvx', 'mcp-server-fetch'])).to.include({
      launcher: 'uvx',
      spec: 'mcp-server-fetch',
      name: 'mcp-server-fetch',
      bin: 'mcp-server-fetch',
    });
    expect(planOf(['uvx', 'ruff@0.6.0', 'check'])).to.deep.include({
      spec: 'ruff==0.6.0',
      args: ['check'],
    });
    expect(planOf(['uvx', 'ruff@latest'])).to.include({ spec: 'ruff' });
    const p = planOf([
      '/u/uvx',
      '-q',
      '--from',
      'git+https://h/r',
      '--python',
      '3.12',
      '--with=x',
      'srv',
      'a',
    ]);
    expect(p).to.include({ spec: 'git+https://h/r', name: undefined, bin: 'srv' });
    expect(p!.installOptions).to.deep.equal(['--python=3.12', '--with=x']);
    expect(planOf(['uvx', '--', 'srv'])).to.include({ bin: 'srv' });
  });

  it('parses pipx run: --spec or the app as the package; install options kept', function () {
    expect(planOf(['pipx', 'run', 'pycowsay', 'moo'])).to.deep.include({
      launcher: 'pipx',
      spec: 'pycowsay',
      name: 'pycowsay',
      bin: 'pycowsay',
      args: ['moo'],
    });
    const p = planOf([
      'pipx',
      'run',
      '--spec',
      'srv==1.0',
      '-i',
      'http://i',
      '--python=3.11',
      'srv-cli',
    ]);
    expect(p).to.include({ spec: 'srv==1.0', bin: 'srv-cli', name: undefined });
    expect(p!.installOptions).to.deep.equal(['--index-url=http://i', '--python=3.11']);
  });

  it('leaves shapes it does not know alone (run as configured)', function () {
    for (const command of [
      ['bunx'],
      ['bunx', '--cwd', '/x', 'srv'],
      ['bunx', './local'],
      ['bunx', '-p', 'a', '-p', 'b', 'x'],
      ['uvx', '--with-editable', '.', 'srv'],
      ['uvx', 'srv@'],
      ['uvx', 'pkg[extra]@1', '--from'],
      ['uvx', '--from', 'x', 'bad name'],
      ['pipx', 'install', 'x'],
      ['pipx', 'run', 'pkg==1.0'],
      ['pipx', 'run', '--no-cache', 'pkg'],
      ['pipx', 'run'],
      ['uv', 'tool', 'run', 'x'],
    ]) {
      expect(planOf(command), command.join(' ')).to.equal(undefined);
    }
  });

  it('fills into the package directory with the launcher caches and env under the cache', function () {
    const bunx = fillStep(planOf(['bunx', '--trust', 'srv@1'])!, '/c', '/c/bunx/h');
    expect(bunx).to.deep.equal({
      installer: 'bun',
      args: ['add', '--trust', 'srv@1'],
      env: { BUN_INSTALL_CACHE_DIR: '/c/bunx-cache', DO_NOT_TRACK: '1' },
      binDir: '/c/bunx/h/node_modules/.bin',
    });
    expect(installerPath(bunx, '/opt/bun/bin/bunx')).to.equal('/opt/bun/bin/bun');
    const uvx = fillStep(planOf(['uvx', '--python', '3.12', 'srv'])!, '/c', '/c/uvx/h');
    expect(uvx.args).to.deep.equal(['tool', 'install', '--force', '--python=3.12', 'srv']);
    expect(uvx.env).to.include({
      UV_TOOL_DIR: '/c/uvx/h/tools',
      UV_TOOL_BIN_DIR: '/c/uvx/h/bin',
      UV_CACHE_DIR: '/c/uvx-cache/cache',
      UV_PYTHON_INSTALL_DIR: '/c/uvx-cache/python',
    });
    expect(installerPath(uvx, '/home/u/.local/bin/uvx')).to.equal('/home/u/.local/bin/uv');
    const pipx = fillStep(planOf(['pipx', 'run', 'srv'])!, '/c', '/c/pipx/h');
    expect(pipx).to.deep.include({
      installer: 'pipx',
      args: ['install', '--force', 'srv'],
      binDir: '/c/pipx/h/bin',
    });
    expect(pipx.env).to.include({ PIPX_HOME: '/c/pipx/h/home', PIPX_BIN_DIR: '/c/pipx/h/bin' });
    expect(installerPath(pipx, '/usr/bin/pipx')).to.equal('/usr/bin/pipx');
  });

  it('a session runs the cached bin, behind its env, under bun only for --bun', function () {
    const plain = planOf(['env', 'A=1', 'uvx', 'srv', '--x'])!;
    expect(sessionCommand(plain, '/c/bin/srv', undefined)).to.deep.equal([
      'env',
      'A=1',
      '/c/bin/srv',
      '--x',
    ]);
    const bun = planOf(['bunx', '--bun', 'srv', 'a'])!;
    expect(sessionCommand(bun, '/c/cli.js', '/opt/bun')).to.deep.equal([
      '/opt/bun',
      '--no-install',
      '/c/cli.js',
      'a',
    ]);
  });

  it('keys differ by launcher, spec, bin and install options (not by args or --bun)', function () {
    const key = (c: string[]) => cacheKey(planOf(c)!);
    expect(key(['bunx', 'srv', 'a'])).to.equal(key(['bunx', '--bun', 'srv', 'b']));
    expect(key(['bunx', 'srv'])).not.to.equal(key(['bunx', '--trust', 'srv']));
    expect(key(['uvx', 'srv'])).not.to.equal(key(['pipx', 'run', 'srv']));
    expect(key(['uvx', 'srv@1'])).not.to.equal(key(['uvx', 'srv@2']));
  });
});
